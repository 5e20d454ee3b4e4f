//! The shipped scenarios tell the stories they claim (run from the repository's scenarios/), and
//! end-to-end behaviours through the whole pipeline on small YAML scenarios.

mod monday;
mod spot_interruptions_off;
