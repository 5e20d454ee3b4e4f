pub mod hpa;
