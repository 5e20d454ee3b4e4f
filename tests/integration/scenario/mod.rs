mod conversions;
mod errors;
mod load;
