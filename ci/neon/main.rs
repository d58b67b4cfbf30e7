//! `dot_shifted` (NEON on aarch64) against `dot_shifted_portable` on random packed rows, widths 1 to 700
//! (padding blocks included) and the extreme activations −128 and 127. Exits non-zero on a mismatch.

#[path = "../../src/ternary/dot.rs"]
mod dot;
#[path = "../../src/ternary/pack.rs"]
#[allow(dead_code)]
mod pack;

/// xorshift64*: enough randomness for test vectors without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn main() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut checked = 0;
    for cols in (1..=700).step_by(7).chain([128, 256, 640]) {
        for pattern in 0..3 {
            let codes: Vec<i8> = (0..cols).map(|_| (rng.next() % 3) as i8 - 1).collect();
            let padded = pack::padded_cols(cols);
            let x: Vec<i8> = (0..padded)
                .map(|c| match (pattern, c >= cols) {
                    (_, true) => 0,
                    (0, _) => (rng.next() % 256) as u8 as i8,
                    (1, _) => -128,
                    _ => 127,
                })
                .collect();
            let row = pack::pack_kernel(&codes, 1, cols);
            let (fast, portable) = (dot::dot_shifted(&row, &x), dot::dot_shifted_portable(&row, &x));
            let exact: i32 = codes.iter().zip(&x).map(|(&c, &v)| (c as i32 + 1) * v as i32).sum();
            assert_eq!((fast, portable), (exact, exact), "cols {cols}, pattern {pattern}");
            checked += 1;
        }
    }
    println!(
        "{}: dot_shifted ({} path) equals the portable and exact sums on {checked} rows",
        std::env::consts::ARCH,
        dot::kernel_path()
    );
}
