//! The recommender's histograms: exponential bucketing, plain and exponentially decaying.
//!
//! upstream: kubernetes/autoscaler vertical-pod-autoscaler/pkg/recommender/util/
//! `histogram_options.go` (bucketing), `histogram.go` (weights, percentiles),
//! `decaying_histogram.go` (the half-life decay by a moving reference time). Arithmetic follows
//! those files step for step so the percentiles match upstream's bit for bit.

/// How a histogram's buckets are laid out. upstream: histogram_options.go.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bucketing {
    /// Fixed-size buckets from 0: bucket `n` starts at `n × size` (`NewLinearHistogramOptions`,
    /// used by upstream's own histogram tests).
    Linear { size: f64 },
    /// Bucket `n` starts at `first × (ratio^n − 1) / (ratio − 1)`
    /// (`NewExponentialHistogramOptions`, what the recommender uses).
    Exponential { first: f64, ratio: f64 },
}

/// A histogram's bucketing scheme and the weight below which a bucket counts as empty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistogramOptions {
    num_buckets: usize,
    bucketing: Bucketing,
    epsilon: f64,
}

fn log(base: f64, x: f64) -> f64 {
    x.ln() / base.ln()
}

impl HistogramOptions {
    /// Buckets `bucket_size` wide from 0, the last starting at or above `max_value`.
    pub fn linear(max_value: f64, bucket_size: f64, epsilon: f64) -> Result<Self, String> {
        if max_value <= 0.0 || bucket_size <= 0.0 || epsilon <= 0.0 {
            return Err("maxValue and bucketSize must both be positive".into());
        }
        Ok(HistogramOptions {
            num_buckets: (max_value / bucket_size).ceil() as usize + 1,
            bucketing: Bucketing::Linear { size: bucket_size },
            epsilon,
        })
    }

    /// Buckets up to `max_value`, the first `first_bucket_size` wide, each `ratio` times wider
    /// than the one before; weights below `epsilon` count as empty.
    pub fn exponential(max_value: f64, first_bucket_size: f64, ratio: f64, epsilon: f64) -> Result<Self, String> {
        if max_value <= 0.0 || first_bucket_size <= 0.0 || ratio <= 1.0 || epsilon <= 0.0 {
            return Err("maxValue, firstBucketSize and epsilon must be > 0.0, ratio must be > 1.0".into());
        }
        let num_buckets = log(ratio, max_value * (ratio - 1.0) / first_bucket_size + 1.0).ceil() as usize + 1;
        Ok(HistogramOptions {
            num_buckets,
            bucketing: Bucketing::Exponential {
                first: first_bucket_size,
                ratio,
            },
            epsilon,
        })
    }

    pub fn num_buckets(&self) -> usize {
        self.num_buckets
    }

    pub fn find_bucket(&self, value: f64) -> usize {
        let last = self.num_buckets - 1;
        match self.bucketing {
            // Go's int() truncates toward zero; negative values land in bucket 0.
            Bucketing::Linear { size } => ((value / size) as i64).clamp(0, last as i64) as usize,
            Bucketing::Exponential { first, ratio } => {
                if value < first {
                    return 0;
                }
                // The argument is ≥ 1 here, so the log is ≥ 0.
                (log(ratio, value * (ratio - 1.0) / first + 1.0) as usize).min(last)
            }
        }
    }

    pub fn bucket_start(&self, bucket: usize) -> f64 {
        match self.bucketing {
            Bucketing::Linear { size } => bucket as f64 * size,
            Bucketing::Exponential { .. } if bucket == 0 => 0.0,
            Bucketing::Exponential { first, ratio } => first * (ratio.powi(bucket as i32) - 1.0) / (ratio - 1.0),
        }
    }

    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }
}

/// A histogram of weighted samples. upstream: histogram.go `histogram`.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    options: HistogramOptions,
    weights: Vec<f64>,
    total: f64,
    min_bucket: usize,
    max_bucket: usize,
}

fn safe_subtract(value: f64, sub: f64, epsilon: f64) -> f64 {
    let v = value - sub;
    if v < epsilon { 0.0 } else { v }
}

impl Histogram {
    pub fn new(options: HistogramOptions) -> Histogram {
        Histogram {
            options,
            weights: vec![0.0; options.num_buckets],
            total: 0.0,
            min_bucket: options.num_buckets - 1,
            max_bucket: 0,
        }
    }

    pub fn add_sample(&mut self, value: f64, weight: f64) {
        let weight = weight.max(0.0);
        let b = self.options.find_bucket(value);
        self.weights[b] += weight;
        self.total += weight;
        if b < self.min_bucket && self.weights[b] >= self.options.epsilon {
            self.min_bucket = b;
        }
        if b > self.max_bucket && self.weights[b] >= self.options.epsilon {
            self.max_bucket = b;
        }
    }

    pub fn subtract_sample(&mut self, value: f64, weight: f64) {
        let weight = weight.max(0.0);
        let b = self.options.find_bucket(value);
        let eps = self.options.epsilon;
        self.total = safe_subtract(self.total, weight, eps);
        self.weights[b] = safe_subtract(self.weights[b], weight, eps);
        self.update_min_and_max_bucket();
    }

    /// upstream: `updateMinAndMaxBucket`.
    fn update_min_and_max_bucket(&mut self) {
        let eps = self.options.epsilon;
        let last = self.options.num_buckets - 1;
        while self.weights[self.min_bucket] < eps && self.min_bucket < last {
            self.min_bucket += 1;
        }
        while self.weights[self.max_bucket] < eps && self.max_bucket > 0 {
            self.max_bucket -= 1;
        }
    }

    /// The start of the bucket after the one where the cumulative weight first reaches
    /// `percentile × total` (the last bucket's own start); 0 when empty.
    pub fn percentile(&self, percentile: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let mut partial = 0.0;
        let threshold = percentile * self.total;
        let mut b = self.min_bucket;
        while b < self.max_bucket {
            partial += self.weights[b];
            if partial >= threshold {
                break;
            }
            b += 1;
        }
        if b < self.options.num_buckets - 1 {
            self.options.bucket_start(b + 1)
        } else {
            self.options.bucket_start(b)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.weights[self.min_bucket] < self.options.epsilon
    }

    pub fn total_weight(&self) -> f64 {
        self.total
    }

    /// upstream: `scale`: the buckets from min to max (the others hold less than epsilon),
    /// then min and max move past buckets that became empty.
    fn scale(&mut self, factor: f64) {
        if self.min_bucket <= self.max_bucket {
            for w in &mut self.weights[self.min_bucket..=self.max_bucket] {
                *w *= factor;
            }
        }
        self.total *= factor;
        self.update_min_and_max_bucket();
    }
}

/// upstream: decaying_histogram.go `maxDecayExponent`.
const MAX_DECAY_EXPONENT: f64 = 100.0;

/// A histogram whose samples lose half their weight every `half_life`: a sample at time `t`
/// gets weight × 2^((t − reference) / half_life), and the reference moves forward (scaling
/// all weights down) when that exponent would pass 100. Times are seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct DecayingHistogram {
    h: Histogram,
    half_life_s: f64,
    reference_s: f64,
}

impl DecayingHistogram {
    pub fn new(options: HistogramOptions, half_life_s: f64) -> DecayingHistogram {
        DecayingHistogram {
            h: Histogram::new(options),
            half_life_s,
            reference_s: 0.0,
        }
    }

    pub fn add_sample(&mut self, value: f64, weight: f64, t_s: f64) {
        let f = self.decay_factor(t_s);
        self.h.add_sample(value, weight * f);
    }

    pub fn subtract_sample(&mut self, value: f64, weight: f64, t_s: f64) {
        let f = self.decay_factor(t_s);
        self.h.subtract_sample(value, weight * f);
    }

    pub fn percentile(&self, p: f64) -> f64 {
        self.h.percentile(p)
    }

    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }

    pub fn total_weight(&self) -> f64 {
        self.h.total_weight()
    }

    fn decay_factor(&mut self, t_s: f64) -> f64 {
        if t_s > self.reference_s + self.half_life_s * MAX_DECAY_EXPONENT {
            self.shift_reference(t_s);
        }
        ((t_s - self.reference_s) / self.half_life_s).exp2()
    }

    /// upstream: `shiftReferenceTimestamp` (the new reference rounded to a half-life).
    fn shift_reference(&mut self, t_s: f64) {
        let new_ref = (t_s / self.half_life_s).round() * self.half_life_s;
        let exponent = ((self.reference_s - new_ref) / self.half_life_s + 0.5).floor();
        self.h.scale(exponent.exp2());
        self.reference_s = new_ref;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> HistogramOptions {
        // upstream histogram_test.go: linear-like test options are not exponential; these are
        // the recommender's CPU options (aggregations_config.go).
        HistogramOptions::exponential(1000.0, 0.01, 1.05, 0.0001).unwrap()
    }

    #[test]
    fn bucket_of_a_value_contains_it() {
        let o = opts();
        for v in [0.0, 0.005, 0.01, 0.5, 1.0, 3.7, 999.0] {
            let b = o.find_bucket(v);
            assert!(o.bucket_start(b) <= v + 1e-12, "{v} in bucket {b}");
            if b + 1 < o.num_buckets() {
                assert!(o.bucket_start(b + 1) > v, "{v} below bucket {}", b + 1);
            }
        }
    }

    #[test]
    fn empty_histogram_percentile_is_zero() {
        let h = Histogram::new(opts());
        assert!(h.is_empty());
        assert_eq!(h.percentile(0.9), 0.0);
    }

    #[test]
    fn subtracting_everything_empties_it() {
        let mut h = Histogram::new(opts());
        h.add_sample(1.0, 1.0);
        h.add_sample(2.0, 1.0);
        h.subtract_sample(1.0, 1.0);
        h.subtract_sample(2.0, 1.0);
        assert!(h.is_empty());
    }

    #[test]
    fn decay_halves_old_samples() {
        // Two samples of equal weight one half-life apart: the later counts twice as much, so
        // the median is the later value's bucket.
        let mut h = DecayingHistogram::new(opts(), 3600.0);
        h.add_sample(1.0, 1.0, 0.0);
        h.add_sample(10.0, 1.0, 3600.0);
        assert!((h.total_weight() - 3.0).abs() < 1e-12);
        let o = opts();
        assert_eq!(h.percentile(0.5), o.bucket_start(o.find_bucket(10.0) + 1));
    }
}
