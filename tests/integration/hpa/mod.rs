mod explain;
mod properties;
mod scenarios;
mod vectors;
