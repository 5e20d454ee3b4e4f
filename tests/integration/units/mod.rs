mod duration;
mod quantity;
