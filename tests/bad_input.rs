//! Hostile and damaged inputs: each gives a clear error or a partial load
//! with counted warnings, never a panic, a hang or unbounded memory.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::io::Write as _;

use common::*;
use leakscope::formats::{self, FormatError, Limits, LoadError, LoadOptions};
use leakscope::model::Format;
use leakscope::progress::Progress;

const TEXT_FIXTURES: [&str; 4] = [
    "goroutine-t3.debug2.txt",
    "goroutine-t3.debug1.txt",
    "stackdump-runtime-stack.txt",
    "panic-gotraceback-all.txt",
];

fn goroutines(l: &formats::Loaded) -> u64 {
    snapshot(l).goroutine_count().unwrap_or(0)
}

#[test]
fn empty_input_is_a_clear_error() {
    let err = load_bytes("empty", b"").unwrap_err();
    assert!(matches!(err, FormatError::Empty), "{err}");
    assert_eq!(err.to_string(), "the input is empty");
    let err = load_bytes("blank", b"\n\n   \n").unwrap_err();
    assert!(err.to_string().contains("not a format"), "{err}");
}

#[test]
fn truncated_text_loads_a_prefix_and_never_panics() {
    for name in TEXT_FIXTURES {
        let data = read(name);
        let full = goroutines(&load_bytes(name, &data).unwrap());
        let mut rng = Rng(0x5eed ^ data.len() as u64);
        let mut cuts: Vec<usize> = (0..200).map(|_| rng.below(data.len())).collect();
        cuts.extend((0..data.len()).step_by(997));
        for cut in cuts {
            match load_bytes(name, &data[..cut]) {
                Ok(l) => assert!(goroutines(&l) <= full, "{name} cut at {cut}"),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
}

#[test]
fn a_cut_stack_is_reported() {
    let data = read("goroutine-t0.debug2.txt");
    let text = String::from_utf8(data).unwrap();
    // Cut right after a function line, before its location.
    let cut = text.find("main.jobWorker(").unwrap()
        + "main.jobWorker({0x80cc48, 0xc0000972f0}, 0x0, 0xc0000801c0, 0xc0000843e0)\n".len();
    let l = load_bytes("cut", &text.as_bytes()[..cut]).unwrap();
    let s = snapshot(&l);
    assert_eq!(s.warnings.count("frame-without-location"), 1);
    let last = s.goroutines().last().unwrap();
    assert_eq!(
        l.table.function(l.table.leaf(last.stack).unwrap()),
        "main.jobWorker"
    );
}

#[test]
fn flipped_bytes_never_panic() {
    for name in TEXT_FIXTURES {
        let data = read(name);
        let mut rng = Rng(0xf11b ^ data.len() as u64);
        for _ in 0..200 {
            let mut d = data.clone();
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
            }
            if let Ok(l) = load_bytes(name, &d) {
                let _ = goroutines(&l);
            }
        }
    }
}

#[test]
fn binary_garbage_is_refused_with_a_hint() {
    let mut rng = Rng(42);
    for len in [1usize, 7, 100, 4096, 100_000] {
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Whatever the bytes sniff as, loading ends in Ok or Err.
        if let Err(e) = load_bytes("garbage", &data) {
            assert!(!e.to_string().is_empty());
        }
    }
    let err = load_bytes("html", b"<html><body>Login required</body></html>\n").unwrap_err();
    assert!(err.to_string().contains("HTML"), "{err}");
    let err = load_bytes("bin", &[0xff, 0xfe, 0x00, 0x01, 0x02]).unwrap_err();
    assert!(
        err.to_string()
            .contains("binary data starting with ff fe 00"),
        "{err}"
    );
}

#[test]
fn a_2gb_file_that_is_not_a_capture_is_refused_without_reading_it() {
    let dir = std::env::temp_dir().join(format!("leakscope-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.bin");
    let f = std::fs::File::create(&path).unwrap();
    // Sparse: 2 GiB of zeros that take no disk space.
    f.set_len(2 << 30).unwrap();
    drop(f);
    let t = std::time::Instant::now();
    let err = formats::load_file(&path, &LoadOptions::default(), &Progress::none()).unwrap_err();
    assert!(err.to_string().contains("big.bin"), "{err}");
    assert!(err.to_string().contains("binary data"), "{err}");
    // Only the head was read: refusing takes no time at all.
    assert!(t.elapsed().as_secs() < 5);
    // And over the size limit, the size alone refuses it.
    let small = LoadOptions {
        limits: Limits {
            max_input_bytes: 1 << 30,
            ..Limits::default()
        },
    };
    let err = formats::load_file(&path, &small, &Progress::none()).unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::Format {
                source: FormatError::TooLarge { .. },
                ..
            }
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_gzip_bomb_stops_at_the_inflate_cap() {
    // 64 MiB of text that compresses ~1000:1 behind a valid dump header.
    let mut raw = b"goroutine 1 [running]:\nmain.main()\n\tmain.go:1 +0x1\n\n".to_vec();
    raw.resize(64 << 20, b'a');
    let bomb = gzip(&raw);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let options = LoadOptions {
        limits: Limits {
            max_inflated_bytes: 8 << 20,
            ..Limits::default()
        },
    };
    let err = formats::load_bytes("bomb.gz", &bomb, &options, &Progress::none()).unwrap_err();
    assert!(matches!(err, FormatError::InflatedTooLarge { limit } if limit == 8 << 20));
    assert!(err.to_string().contains("gzip bomb"), "{err}");
}

#[test]
fn gzip_and_truncated_gzip() {
    let data = read("goroutine-t2.debug2.txt");
    let gz = gzip(&data);
    let l = load_bytes("t2.gz", &gz).unwrap();
    assert_eq!(goroutines(&l), 107);
    // A stream cut in half loads what inflated and says so.
    let l = load_bytes("t2-cut.gz", &gz[..gz.len() / 2]).unwrap();
    let s = snapshot(&l);
    assert!(goroutines(&l) > 0 && goroutines(&l) < 107);
    assert_eq!(s.warnings.count("gzip-truncated"), 1, "{:?}", s.warnings);
    // A corrupt header is an error naming gzip.
    let mut bad = gz.clone();
    bad[3] = 0xff; // reserved flag bits
    assert!(load_bytes("bad.gz", &bad).is_err());
}

#[test]
fn ten_thousand_frame_stacks_are_capped_with_a_warning() {
    let mut d = String::from("goroutine 1 [running]:\n");
    for i in 0..10_000 {
        d.push_str(&format!(
            "main.recurse{}(...)\n\t/src/app/main.go:{}\n",
            i % 7,
            i + 1
        ));
    }
    d.push_str("created by main.main in goroutine 1\n\t/src/app/main.go:3 +0x1\n");
    let l = load_bytes("deep", d.as_bytes()).unwrap();
    let s = snapshot(&l);
    let g = &s.goroutines()[0];
    assert_eq!(
        l.table.depth(g.stack),
        Limits::default().max_stack_depth as u32
    );
    assert!(g.frames_elided);
    assert_eq!(s.warnings.count("deep-stack"), 1);
    // The innermost frames are the ones kept.
    let leaf = l.table.frame(l.table.leaf(g.stack).unwrap());
    assert_eq!(leaf.line, 1);
    // debug=1 with a deep record too.
    let mut d1 = String::from("goroutine profile: total 1\n1 @ 0x1\n");
    for i in 0..10_000 {
        d1.push_str(&format!("#\t0x{i:x}\tmain.f{i}+0x1\t/src/main.go:{i}\n"));
    }
    let l = load_bytes("deep1", d1.as_bytes()).unwrap();
    assert_eq!(snapshot(&l).warnings.count("deep-stack"), 1);
}

#[test]
fn a_dump_pasted_from_a_log_loads_like_the_original() {
    let data = String::from_utf8(read("goroutine-t1.debug2.txt")).unwrap();
    let mut logged = String::new();
    for (i, line) in data.lines().enumerate() {
        // Timestamps change width-stable; the pid column changes width.
        let pid = if i % 3 == 0 { "7" } else { "12345" };
        logged.push_str(&format!(
            "2026-11-26T22:40:{:02}.{:06}Z leakyd[{pid}]: {line}\n",
            i % 60,
            i * 7 % 1_000_000
        ));
    }
    let l = load_bytes("logged", logged.as_bytes()).unwrap();
    let s = snapshot(&l);
    assert_eq!(goroutines(&l), 76);
    assert_eq!(s.warnings.count("log-prefix"), 1);
    let clean = load_bytes("clean", data.as_bytes()).unwrap();
    let stacks = |l: &formats::Loaded| -> Vec<Vec<(String, u32)>> {
        snapshot(l)
            .goroutines()
            .iter()
            .map(|g| {
                l.table
                    .frames(g.stack)
                    .map(|f| (l.table.function(f).to_owned(), l.table.frame(f).line))
                    .collect()
            })
            .collect()
    };
    assert_eq!(stacks(&l), stacks(&clean));
}

#[test]
fn windows_line_endings_change_nothing() {
    for name in TEXT_FIXTURES {
        let data = String::from_utf8(read(name)).unwrap();
        let crlf = data.replace('\n', "\r\n");
        let a = load_bytes(name, data.as_bytes()).unwrap();
        let b = load_bytes(name, crlf.as_bytes()).unwrap();
        assert_eq!(goroutines(&a), goroutines(&b), "{name}");
        assert_eq!(snapshot(&a).warnings, snapshot(&b).warnings, "{name}");
        let fa: Vec<String> = a
            .table
            .strings()
            .iter()
            .map(|(_, s)| s.to_owned())
            .collect();
        let fb: Vec<String> = b
            .table
            .strings()
            .iter()
            .map(|(_, s)| s.to_owned())
            .collect();
        assert_eq!(fa, fb, "{name}: no stray \\r in names");
    }
}

#[test]
fn detection_never_uses_the_file_name() {
    let data = read("goroutine-t0.debug1.txt");
    let l = load_bytes("profile.pb.gz", &data).unwrap();
    assert_eq!(snapshot(&l).source.format, Format::GoroutineDebug1);
}

/// A goroutine profile with one `main.main`-rooted stack whose innermost
/// function is named `leaf`, and a location whose bytes are `location`.
fn profile_with(leaf: &str, location: Option<Vec<u8>>) -> Vec<u8> {
    use leakscope::formats::pprof::proto;
    use prost::Message as _;
    let p = proto::Profile {
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
        sample: vec![proto::Sample {
            location_id: vec![1],
            value: vec![3],
            label: vec![],
        }],
        location: vec![proto::Location {
            id: 1,
            mapping_id: 0,
            address: 0x1000,
            line: vec![proto::Line {
                function_id: 1,
                line: 3,
            }],
            is_folded: false,
        }],
        function: vec![proto::Function {
            id: 1,
            name: 3,
            system_name: 0,
            filename: 4,
            start_line: 1,
        }],
        string_table: ["", "goroutine", "count", leaf, "main.go"]
            .map(str::to_owned)
            .to_vec(),
        ..proto::Profile::default()
    };
    let mut out = p.encode_to_vec();
    if let Some(loc) = location {
        // Field 4 (location), length-delimited.
        out.push(4 << 3 | 2);
        let mut n = loc.len();
        while n >= 0x80 {
            out.push(n as u8 | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(&loc);
    }
    out
}

#[test]
fn a_gigantic_function_name_is_cut_to_the_string_limit() {
    let max = formats::limits::MAX_STRING_BYTES;
    let name = format!("main.{}", "x".repeat(4 << 20));
    let l = load_bytes("long.pb", &profile_with(&name, None)).unwrap();
    let s = snapshot(&l);
    assert_eq!(s.goroutine_count(), Some(3));
    let leaf = l
        .table
        .function(l.table.leaf(s.goroutines()[0].stack).unwrap());
    assert_eq!(leaf.len(), max);
    assert!(name.starts_with(leaf));
    assert_eq!(s.warnings.count("long-string"), 1, "{:?}", s.warnings);
    // The same in a text dump, where the line limit is larger than the
    // string limit.
    let dump = format!(
        "goroutine 1 [running]:\nmain.{}()\n\t/src/main.go:1 +0x1\n",
        "y".repeat(512 << 10)
    );
    let l = load_bytes("long.txt", dump.as_bytes()).unwrap();
    let s = snapshot(&l);
    let leaf = l
        .table
        .function(l.table.leaf(s.goroutines()[0].stack).unwrap());
    assert_eq!(leaf.len(), max);
    assert_eq!(s.warnings.count("long-string"), 1, "{:?}", s.warnings);
    // And in folded stacks.
    let folded = format!("main.main;{} 4\n", "z".repeat(200 << 10));
    let l = load_bytes("long.folded", folded.as_bytes()).unwrap();
    assert_eq!(snapshot(&l).warnings.count("long-string"), 1);
}

#[test]
fn deeply_nested_protobuf_meets_the_decoder_limit_not_the_stack() {
    // A location made of 500,000 nested group starts: a decoder that
    // recursed once per level would overflow the stack and abort.
    let nested: Vec<u8> = std::iter::repeat_n(15 << 3 | 3, 500_000).collect();
    let l = load_bytes("nested.pb", &profile_with("main.main", Some(nested))).unwrap();
    let s = snapshot(&l);
    assert_eq!(s.goroutine_count(), Some(3));
    assert_eq!(s.warnings.count("bad-location"), 1, "{:?}", s.warnings);
    // Nested length-delimited messages, 100,000 deep, inside a location's line.
    let mut inner: Vec<u8> = Vec::new();
    for _ in 0..100_000 {
        let mut outer = vec![4 << 3 | 2];
        let mut n = inner.len();
        while n >= 0x80 {
            outer.push(n as u8 | 0x80);
            n >>= 7;
        }
        outer.push(n as u8);
        outer.extend_from_slice(&inner);
        inner = outer;
        if inner.len() > 8 << 20 {
            break;
        }
    }
    let l = load_bytes("nested2.pb", &profile_with("main.main", Some(inner))).unwrap();
    assert_eq!(snapshot(&l).goroutine_count(), Some(3));
}

#[test]
fn a_deeply_nested_session_manifest_never_overflows_the_stack() {
    use leakscope::formats::session_dir;
    let dir = std::env::temp_dir().join(format!("leakscope-nested-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("000001-goroutine.pb.gz"),
        read("goroutine-t0.pb.gz"),
    )
    .unwrap();
    // Nested in a field the manifest does not have, which a reader skips.
    let deep = format!(
        "{{\"leakscope_session\":1,\"x\":{}{}}}",
        "[".repeat(1_000_000),
        "]".repeat(1_000_000)
    );
    std::fs::write(dir.join(session_dir::MANIFEST_FILE), deep).unwrap();
    // Skipped without recursing, so the folder lists as if it had no extra field.
    let list = session_dir::list_captures(&dir).unwrap();
    assert_eq!(list.len(), 1);
    // Deep nesting where the manifest expects a value is an error naming it.
    let deep = format!(
        "{{\"captures\":[{{\"file\":{}{}}}]}}",
        "[".repeat(1_000_000),
        "]".repeat(1_000_000)
    );
    std::fs::write(dir.join(session_dir::MANIFEST_FILE), deep).unwrap();
    // A manifest that cannot be read costs its capture times, not the
    // captures: they load, and say why they have no time.
    let list = session_dir::list_captures(&dir).unwrap();
    assert_eq!(list.len(), 1);
    let msg = list[0].manifest_problem.clone().unwrap();
    assert!(msg.contains("manifest.json"), "{msg}");
    let spec = leakscope::pipeline::InputSpec::Path(dir.clone());
    let outcome =
        leakscope::pipeline::load(&[spec], &LoadOptions::default(), &Progress::none()).unwrap();
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let session = outcome.session;
    let w = session.inputs[0].warnings();
    assert_eq!(w.count("session-manifest"), 1, "{w:?}");
    assert_eq!(
        session.inputs[0].as_snapshot().unwrap().goroutine_count(),
        Some(45)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_ten_thousand_frame_trace_stack_is_capped() {
    use common::tracegen::{V2, ev};
    // A Go 1.23 trace whose goroutine waits in a stack of 10,000 frames
    // (as deep as a 64 KB batch can hold).
    let mut b = V2::new(23);
    let mut p = Vec::new();
    ev(&mut p, 13, &[0, 0, 1]); // ProcStatus P0 running
    ev(&mut p, 48, &[1, 1, 1, 4, 4]); // GoStatusStack g1 waiting in stack 4
    b.batch(1, 1, 1000, &p);
    b.deep_stack(1, 4, 10_000);
    b.tables(1, 23);
    let l = load_bytes("deep.trace", &b.out).unwrap();
    let t = l.input.as_trace().unwrap();
    assert_eq!(t.warnings.count("trace-deep-stack"), 1, "{:?}", t.warnings);
    let g = t.goroutine_indices().next().unwrap();
    let span = t.spans(g).next().unwrap();
    assert_eq!(span.state, leakscope::model::GoState::Waiting);
    assert_eq!(
        l.table.depth(span.stack) as usize,
        Limits::default().max_stack_depth
    );
}

#[test]
fn gzip_files_inflate_straight_from_disk_under_the_same_caps() {
    let dir = std::env::temp_dir().join(format!("leakscope-gzfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let load = |name: &str, data: &[u8], options: &LoadOptions| {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        formats::load_file(&path, options, &Progress::none())
    };
    let trace = read("trace-go123.out");
    let whole = load("t.out.gz", &gzip(&trace), &LoadOptions::default()).unwrap();
    let plain = load_bytes("t.out", &trace).unwrap();
    let (a, b) = (
        whole.input.as_trace().unwrap(),
        plain.input.as_trace().unwrap(),
    );
    assert_eq!(a.events, b.events);
    assert_eq!(a.goroutine_count(), b.goroutine_count());
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    // The size recorded is the file's, compressed.
    assert_eq!(whole.input.source().bytes, gzip(&trace).len() as u64);
    // Cut in half on disk: what inflated loads, and says so.
    let gz = gzip(&read("goroutine-t3.debug2.txt"));
    let cut = load("cut.txt.gz", &gz[..gz.len() / 2], &LoadOptions::default()).unwrap();
    assert_eq!(snapshot(&cut).warnings.count("gzip-truncated"), 1);
    assert!(goroutines(&cut) > 0 && goroutines(&cut) < 138);
    // A bomb on disk stops at the cap, naming the file.
    let mut raw = b"goroutine 1 [running]:\nmain.main()\n\tmain.go:1 +0x1\n\n".to_vec();
    raw.resize(64 << 20, b'a');
    let small = LoadOptions {
        limits: Limits {
            max_inflated_bytes: 8 << 20,
            ..Limits::default()
        },
    };
    let err = load("bomb.txt.gz", &gzip(&raw), &small).unwrap_err();
    assert!(err.to_string().contains("bomb.txt.gz"), "{err}");
    assert!(err.to_string().contains("gzip bomb"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
