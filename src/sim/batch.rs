//! Batch arrivals: the world side of `model::batch`.

use super::{Event, World};
use crate::cluster::{DeleteReason, PodId, PodPhase};
use crate::engine::{SimDuration, SimTime};
use crate::model::batch::BatchArrivals;
use rand::RngExt;

impl World<'_> {
    /// Schedules arrival `k` of batch workload `wi`, drawn after `after`.
    pub(super) fn schedule_batch_arrival(&mut self, wi: u32, k: u32, after: SimTime) {
        let wl = &self.sc.workloads[wi as usize];
        let Some(arrivals) = &wl.batch else { return };
        let at = match arrivals {
            BatchArrivals::Trace(jobs) => match jobs.get(k as usize) {
                Some(j) => j.arrival,
                None => return,
            },
            BatchArrivals::Generated {
                rate_per_hour,
                start,
                end,
                ..
            } => {
                if *rate_per_hour <= 0.0 {
                    return;
                }
                // Exponential inter-arrival times, one draw per arrival index (common random numbers).
                let mut rng = self
                    .rngs
                    .stream_named(self.stream_keys[wi as usize].batch_arrivals, u64::from(k));
                let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                let gap = -u.ln() * 3600.0 / rate_per_hour;
                let at = after.max(*start) + SimDuration::from_secs_f64(gap);
                if end.is_some_and(|e| at > e) {
                    return;
                }
                at
            }
        };
        self.queue.push(at, Event::BatchArrival(wi, k));
    }

    pub(super) fn batch_arrival(&mut self, now: SimTime, wi: u32, k: u32) {
        let wl = &self.sc.workloads[wi as usize];
        let (requests, run_for) = match &wl.batch {
            Some(BatchArrivals::Trace(jobs)) => match jobs.get(k as usize) {
                Some(j) => (j.requests, j.duration),
                None => return,
            },
            Some(BatchArrivals::Generated { runtime, .. }) => {
                let mut rng = self
                    .rngs
                    .stream_named(self.stream_keys[wi as usize].batch_runtime, u64::from(k));
                (wl.template.requests(), runtime.sample(&mut rng))
            }
            None => return,
        };
        let p = self.create_pod(wi as usize, now);
        let pod = &mut self.cluster.pods[p.0 as usize];
        pod.requests = requests;
        pod.run_for = Some(run_for);
        self.request_cycle(now);
        self.schedule_batch_arrival(wi, k + 1, now);
    }

    pub(super) fn pod_completed(&mut self, now: SimTime, p: PodId) {
        let pod = &self.cluster.pods[p.0 as usize];
        if pod.phase != PodPhase::Running && pod.phase != PodPhase::Ready {
            return;
        }
        let wi = pod.workload as usize;
        let run_for = pod.run_for.unwrap_or(SimDuration::ZERO);
        self.workloads[wi].active.retain(|&x| x != p);
        self.keda_job_done(wi, run_for);
        let pod = &mut self.cluster.pods[p.0 as usize];
        pod.phase = PodPhase::Succeeded;
        pod.completed = Some(now);
        pod.delete_reason = Some(DeleteReason::Completed);
        if let Some(n) = pod.node {
            let req = pod.requests;
            let node = &mut self.cluster.nodes[n.0 as usize];
            node.allocated -= req;
            node.pods.retain(|&x| x != p);
            self.capacity_freed(n);
        }
        self.request_cycle(now);
    }
}
