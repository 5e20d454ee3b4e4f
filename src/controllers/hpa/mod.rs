//! The HorizontalPodAutoscaler, as kube-controller-manager implements it (autoscaling/v2).
//! OWNER: HPA helper.
