//! The shipped scenarios tell the stories they claim (run from the repository's scenarios/).

mod monday;
