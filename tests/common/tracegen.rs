//! Builders of small Go 1.22+ execution traces, for tests of format
//! versions without a fixture and of hostile inputs.

/// Appends an unsigned LEB128 varint.
pub fn uv(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A v2 trace under construction: the header, then batches.
pub struct V2 {
    pub out: Vec<u8>,
}

impl V2 {
    pub fn new(minor: u32) -> V2 {
        let mut out = format!("go 1.{minor} trace").into_bytes();
        out.resize(16, 0);
        V2 { out }
    }

    /// One batch: header, then `payload`.
    pub fn batch(&mut self, generation: u64, m: u64, time: u64, payload: &[u8]) {
        self.out.push(1);
        uv(&mut self.out, generation);
        uv(&mut self.out, m);
        uv(&mut self.out, time);
        uv(&mut self.out, payload.len() as u64);
        self.out.extend_from_slice(payload);
    }

    /// The string, stack and frequency batches of a generation: strings
    /// 1..=6, stacks 1..=3 and a 1 GHz clock (see the body).
    pub fn tables(&mut self, generation: u64, minor: u32) {
        let strings = [
            "chan receive",
            "main.main",
            "main.go",
            "main.worker",
            "runtime.chanrecv1",
            "runtime/chan.go",
        ];
        let mut p = vec![4];
        for (i, s) in strings.iter().enumerate() {
            p.push(5);
            uv(&mut p, i as u64 + 1);
            uv(&mut p, s.len() as u64);
            p.extend_from_slice(s.as_bytes());
        }
        self.batch(generation, u64::MAX, 0, &p);
        // Stacks: 1 = main.main; 2 = main.worker; 3 = chanrecv1 <- main.worker.
        let stacks: [&[(u64, u64, u64)]; 3] =
            [&[(2, 3, 10)], &[(4, 3, 20)], &[(5, 6, 5), (4, 3, 22)]];
        let mut p = vec![2];
        for (i, frames) in stacks.iter().enumerate() {
            p.push(3);
            uv(&mut p, i as u64 + 1);
            uv(&mut p, frames.len() as u64);
            for &(func, file, line) in *frames {
                uv(&mut p, 0x1000 + line);
                uv(&mut p, func);
                uv(&mut p, file);
                uv(&mut p, line);
            }
        }
        self.batch(generation, u64::MAX, 0, &p);
        let mut p = Vec::new();
        if minor >= 25 {
            p.extend_from_slice(&[50, 8]);
            uv(&mut p, 1_000_000_000);
            p.push(51);
            for v in [0, 1, 2, 3] {
                uv(&mut p, v);
            }
        } else {
            p.push(8);
            uv(&mut p, 1_000_000_000);
        }
        self.batch(generation, u64::MAX, 0, &p);
    }
}

impl V2 {
    /// Go 1.26+: the in-band end-of-generation marker, a lone byte 52.
    pub fn end_generation(&mut self) {
        self.out.push(52);
    }

    /// A stack batch with one stack, `id`, of `frames` frames of
    /// `main.main` (string 2) in `main.go` (string 3).
    pub fn deep_stack(&mut self, generation: u64, id: u64, frames: u64) {
        let mut p = vec![2, 3];
        uv(&mut p, id);
        uv(&mut p, frames);
        for line in 0..frames {
            uv(&mut p, 0x1000 + line);
            uv(&mut p, 2);
            uv(&mut p, 3);
            uv(&mut p, line + 1);
        }
        self.batch(generation, u64::MAX, 0, &p);
    }
}

/// Appends one event: its type byte, then its arguments as varints.
pub fn ev(p: &mut Vec<u8>, typ: u8, args: &[u64]) {
    p.push(typ);
    for &a in args {
        uv(p, a);
    }
}
