mod noise;
mod replay;
mod shapes;
mod square;
