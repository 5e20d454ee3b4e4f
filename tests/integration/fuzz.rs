//! A small run of the fuzz harness (`capsim::fuzz`) on every target: no input panics, and the
//! generated inputs reach past the syntax (some are accepted). The large runs are a documented
//! command (`cargo bench --bench fuzz`).

use capsim::fuzz::{self, Target};

#[test]
fn no_input_panics_a_parser_or_a_short_simulation() {
    for &t in Target::ALL {
        let n = match t {
            Target::Simulation => 40,
            Target::Scenario | Target::Grid => 400,
            _ => 3000,
        };
        let r = fuzz::run(t, 7, n);
        assert_eq!(r.inputs, n);
        assert_eq!(r.panics, 0, "{}: {:?}", t.name(), r.examples);
        if !matches!(t, Target::Simulation) {
            assert!(r.accepted > 0, "{}: no generated input was accepted", t.name());
        }
        assert!(
            r.accepted < r.inputs,
            "{}: every input accepted: the mutations do nothing",
            t.name()
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_inputs() {
    use rand::SeedableRng;
    let mut a = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(3);
    let mut b = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(3);
    for _ in 0..200 {
        assert_eq!(
            fuzz::input(&mut a, Target::Scenario),
            fuzz::input(&mut b, Target::Scenario)
        );
    }
}
