mod errors;
mod load;
