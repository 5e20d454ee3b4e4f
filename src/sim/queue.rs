//! The queue in front of a queue worker (`spec.workloads.<name>.queue`): messages arrive at the
//! traffic's rate; the workload's ready pods process them as fast as the CPU they get allows
//! (the service model's capacity); what they cannot process yet waits, first in first out.
//!
//! Between two service ticks the rates are constant, so the depth moves linearly:
//! `depth' = arrivals − processed`. At each tick the pods are offered the arrivals plus the
//! backlog spread over one tick, so with room to spare they drain it within the tick and never
//! below zero. The oldest message's age follows from the cumulative counts (FIFO): the message at
//! the head arrived when the cumulative arrivals equalled what has been processed since.

use crate::engine::SimTime;
use std::collections::VecDeque;

/// A queue's state during a run.
#[derive(Clone, Debug, Default)]
pub struct QueueState {
    /// Messages/s arriving since the last tick.
    pub arrival: f64,
    /// Messages waiting.
    pub depth: f64,
    /// Messages arrived and processed (taken off the queue) since t = 0.
    pub arrived: f64,
    pub processed: f64,
    /// A ScaledJob's queue: messages its running Jobs hold (taken, not yet done).
    pub in_flight: f64,
    /// (time, cumulative arrivals) at each tick since the head message arrived.
    marks: VecDeque<(SimTime, f64)>,
}

impl QueueState {
    /// Advances the queue over `dt_s` seconds at `processed_rate` messages/s (what the pods
    /// served); returns the messages processed.
    pub fn advance(&mut self, dt_s: f64, processed_rate: f64) -> f64 {
        let arrived = self.arrival * dt_s;
        let done = (processed_rate * dt_s).min(self.depth + arrived).max(0.0);
        self.arrived += arrived;
        self.processed += done;
        self.depth = (self.depth + arrived - done).max(0.0);
        done
    }

    /// The rate the ready pods are offered until the next tick, `tick_s` away: the arrivals
    /// plus the backlog spread over the tick. Records the tick's arrival mark.
    pub fn tick(&mut self, now: SimTime, arrival: f64, tick_s: f64) -> f64 {
        self.arrival = arrival;
        self.marks.push_back((now, self.arrived));
        // Marks wholly before the head message are not needed any more.
        while self.marks.len() >= 2 && self.marks[1].1 <= self.processed {
            self.marks.pop_front();
        }
        arrival + if tick_s > 0.0 { self.depth / tick_s } else { 0.0 }
    }

    /// The depth `elapsed_s` after the last integration, at the current rates (the world
    /// integrates on events, so the stored depth may be a little old when a scaler reads it).
    pub fn depth_after(&self, elapsed_s: f64, processed_rate: f64) -> f64 {
        (self.depth + (self.arrival - processed_rate) * elapsed_s).max(0.0)
    }

    /// The age of the oldest waiting message at `now`, seconds (0 with an empty queue).
    pub fn oldest_age_s(&self, now: SimTime) -> f64 {
        if self.depth < 1e-9 {
            return 0.0;
        }
        let p = self.processed;
        // The head arrived between the last mark at or below `p` and the next one.
        let mut prev: Option<(SimTime, f64)> = None;
        for &(t, a) in &self.marks {
            if a > p {
                let head = match prev {
                    Some((t0, a0)) if a > a0 => t0.as_secs_f64() + (p - a0) / (a - a0) * (t - t0).as_secs_f64(),
                    Some((t0, _)) => t0.as_secs_f64(),
                    None => t.as_secs_f64(),
                };
                return (now.as_secs_f64() - head).max(0.0);
            }
            prev = Some((t, a));
        }
        // Arrived after the last mark: between it and now.
        match prev {
            Some((t0, a0)) if self.arrived > a0 => {
                let head = t0.as_secs_f64() + (p - a0) / (self.arrived - a0) * (now - t0).as_secs_f64();
                (now.as_secs_f64() - head).max(0.0)
            }
            Some((t0, _)) => (now - t0).as_secs_f64(),
            None => 0.0,
        }
    }
}

/// One sample of a queue, for `queue.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueRow {
    pub time: SimTime,
    pub workload: u32,
    pub arrival_rps: f64,
    pub processed_rps: f64,
    pub depth: f64,
    pub oldest_age_s: f64,
}

impl super::World<'_> {
    /// A read of the named series `name` at `now`: `None` if the scenario has no such series,
    /// `Err` while a `metricsOutage` fault makes its source unreachable or a query's result is
    /// not one sample ([`crate::scenario::series`]).
    pub fn series_read(&self, name: &str, now: SimTime) -> Option<Result<f64, ()>> {
        use crate::alerts::eval::{Value, eval};
        use crate::scenario::series::SeriesSource;
        let s = self.sc.series.iter().find(|s| s.name == name)?;
        if crate::scenario::faults::series_unavailable(&self.sc.faults, name, now) {
            return Some(Err(()));
        }
        Some(Ok(match &s.source {
            SeriesSource::Shape(model) => model.rps_at(now, &self.rngs).max(0.0),
            SeriesSource::Queue { workload, measure } => self.queue_measure(*workload, *measure, now),
            SeriesSource::Cron { within, desired } => {
                let minute = (now.as_secs_f64() / 60.0) as usize % crate::scenario::cron::WEEK_MINUTES;
                if within[minute] { *desired } else { 0.0 }
            }
            SeriesSource::Query { expr, ignore_null } => {
                let v = match eval(expr, &self.recorder.series, now.as_millis()) {
                    Ok(Value::Vector(v)) if v.len() == 1 => Some(v[0].value),
                    Ok(Value::Vector(v)) if v.is_empty() => None,
                    // Several samples, a scalar (the HTTP API's scalar result is no vector), an
                    // evaluation error: the read fails.
                    _ => return Some(Err(())),
                };
                match v.filter(|x| x.is_finite()) {
                    Some(x) => x,
                    None if *ignore_null => 0.0,
                    None => return Some(Err(())),
                }
            }
        }))
    }

    /// A measure of workload `wi`'s queue at `now` (0 for a workload without one).
    pub fn queue_measure(&self, wi: usize, measure: crate::scenario::series::QueueMeasure, now: SimTime) -> f64 {
        use crate::scenario::series::QueueMeasure;
        let ws = &self.workloads[wi];
        let Some(q) = &ws.queue else { return 0.0 };
        match measure {
            QueueMeasure::Depth => q
                .depth_after((now - ws.last_tick_raw).as_secs_f64(), ws.served_rps())
                .round(),
            QueueMeasure::Outstanding => {
                let wl = &self.sc.workloads[wi];
                let m = &wl.service;
                // A ScaledJob's Jobs hold theirs until they finish; a Deployment's pods per
                // Little's law.
                let in_flight = if wl.kind == crate::model::WorkloadKind::Batch {
                    q.in_flight
                } else {
                    ws.served_rps() * (m.cpu_per_rps_m / 1000.0 + m.base_latency_s)
                };
                (q.depth_after((now - ws.last_tick_raw).as_secs_f64(), ws.served_rps()) + in_flight).round()
            }
            QueueMeasure::OldestAge => q.oldest_age_s(now),
            QueueMeasure::Arrivals => q.arrival,
            QueueMeasure::Processed => ws.served_rps(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_builds_at_the_surplus_and_drains_at_the_spare_capacity() {
        let mut q = QueueState::default();
        // 10 msg/s arriving, 6 processed, for 10 s: 40 waiting; the head (message 60) arrived
        // at 60 / 10 = 6 s, so it is 4 s old.
        q.tick(SimTime::ZERO, 10.0, 1.0);
        for i in 0..10 {
            q.advance(1.0, 6.0);
            q.tick(SimTime::from_secs(i + 1), 10.0, 1.0);
        }
        assert!((q.depth - 40.0).abs() < 1e-9);
        assert!(
            (q.oldest_age_s(SimTime::from_secs(10)) - 4.0).abs() < 1e-9,
            "{}",
            q.oldest_age_s(SimTime::from_secs(10))
        );
        // Offered: the arrivals plus the backlog over one tick.
        assert!((q.tick(SimTime::from_secs(10), 10.0, 1.0) - 50.0).abs() < 1e-9);
        // Processing 50/s for one second drains it.
        q.advance(1.0, 50.0);
        assert!(q.depth.abs() < 1e-9);
        assert_eq!(q.oldest_age_s(SimTime::from_secs(11)), 0.0);
        assert!((q.arrived - q.processed).abs() < 1e-9);
    }
}
