//! Engine microbenchmark: events per second through the event queue.
//!
//! The "hold" model: a queue kept at a steady size; each delivered event schedules one new event
//! a pseudo-random delay ahead (as a simulation's handlers do). Run:
//! `cargo bench --bench engine` — criterion reports throughput in events/s (elements/s).

use capsim::engine::{EventQueue, Rngs, SimDuration, SimTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use std::hint::black_box;

#[derive(Clone, Copy)]
enum Ev {
    A(u32),
    B(u32),
}

fn hold(queue_size: usize, events: u64) -> u64 {
    let mut rng = Rngs::new(1).stream("bench", 0);
    let mut q = EventQueue::with_capacity(queue_size + 1);
    for i in 0..queue_size {
        q.push(SimTime(rng.random_range(0..10_000)), Ev::A(i as u32));
    }
    let mut sum = 0u64;
    for _ in 0..events {
        let (t, e) = q.pop().expect("queue never empties");
        let (k, next) = match e {
            Ev::A(k) => (k, Ev::B(k)),
            Ev::B(k) => (k, Ev::A(k)),
        };
        sum = sum.wrapping_add(u64::from(k));
        q.push(t + SimDuration(rng.random_range(1..10_000)), next);
    }
    sum
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    const EVENTS: u64 = 1_000_000;
    g.throughput(Throughput::Elements(EVENTS));
    for size in [100usize, 10_000] {
        g.bench_function(format!("hold/queue={size}"), |b| {
            b.iter(|| black_box(hold(size, EVENTS)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
