//! `write_run_charts` writes valid, non-empty PNG and SVG pages whose text is drawn.

use super::kit;

use capsim::report::charts::{CDF_SIZE, TIMELINE_SIZE, write_run_charts};
use kit::{Wl, checkout, synthetic, temp_dir};
use std::fs;
use std::path::Path;

const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Decodes a PNG and returns (width, height, RGB pixels).
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let bytes = fs::read(path).expect("read png");
    assert!(bytes.len() > 10_000, "{}: only {} bytes", path.display(), bytes.len());
    assert_eq!(bytes[..8], PNG_MAGIC, "{}: not a PNG", path.display());
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = dec.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Count of dark (text- or axis-coloured) pixels in rows `y0..y1`.
fn dark_pixels(w: u32, rgb: &[u8], y0: u32, y1: u32) -> usize {
    let row = w as usize * 3;
    rgb[y0 as usize * row..y1 as usize * row]
        .chunks(3)
        .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 100)
        .count()
}

fn svg(path: &Path) -> String {
    let s = fs::read_to_string(path).expect("read svg");
    assert!(
        s.trim_start().starts_with("<svg"),
        "{}: does not start with <svg",
        path.display()
    );
    assert!(
        s.trim_end().ends_with("</svg>"),
        "{}: does not end with </svg>",
        path.display()
    );
    assert!(s.contains("<text"), "{}: no text", path.display());
    // Balanced elements, enough to say the XML is not cut short.
    assert_eq!(s.matches("<text").count(), s.matches("</text>").count());
    s
}

#[test]
fn run_charts_are_valid_png_and_svg_with_titles() {
    let dir = temp_dir("charts-run");
    let r = checkout(1.0);
    let written = write_run_charts(&dir, &r, "demo").expect("charts");
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["timeline.png", "timeline.svg", "pending-cdf.png", "pending-cdf.svg"]
    );

    let (w, h, rgb) = decode(&dir.join("timeline.png"));
    assert_eq!((w, h), TIMELINE_SIZE);
    // The page title is drawn in the top 40 px: with no font, that band would be blank.
    assert!(dark_pixels(w, &rgb, 0, 40) > 200, "title text not drawn");
    let (w, h, rgb) = decode(&dir.join("pending-cdf.png"));
    assert_eq!((w, h), CDF_SIZE);
    assert!(dark_pixels(w, &rgb, 0, 40) > 200, "title text not drawn");

    let t = svg(&dir.join("timeline.svg"));
    for title in [
        "demo — timeline",
        "Demand vs served capacity (req/s) — checkout-api",
        "Replicas (pods) — checkout-api",
        "Nodes by pool and state (nodes)",
        "Cost rate ($/h)",
        "time since start (h:mm)",
        "general ready",
        "general upcoming",
        "general leaving",
        "1:00",
        "2:00",
    ] {
        assert!(t.contains(title), "timeline.svg lacks {title:?}");
    }
    assert!(t.contains("sans-serif"), "SVG text names the bundled family");
    let c = svg(&dir.join("pending-cdf.svg"));
    for title in ["demo — Pending time CDF", "time Pending (s)", "checkout-api (n=30"] {
        assert!(c.contains(title), "pending-cdf.svg lacks {title:?}");
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn multi_workload_charts_say_what_they_sum_and_show_each_cdf() {
    let dir = temp_dir("charts-multi");
    let r = synthetic(
        "two",
        &[
            Wl {
                name: "api",
                base: 300.0,
                pending: vec![0.0, 40.0, 90.0],
            },
            Wl {
                name: "worker",
                base: 100.0,
                pending: vec![5.0, 200.0],
            },
        ],
        &["general", "spot"],
        3600,
        1.0,
    );
    write_run_charts(&dir, &r, "two").expect("charts");
    let t = svg(&dir.join("timeline.svg"));
    assert!(t.contains("Demand vs served capacity (req/s) — sum of 2 workloads"));
    assert!(t.contains("spot ready") && t.contains("all nodes"));
    let c = svg(&dir.join("pending-cdf.svg"));
    assert!(c.contains("api (n=3") && c.contains("worker (n=2"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_run_with_no_samples_or_pods_still_draws() {
    let dir = temp_dir("charts-empty");
    let mut r = checkout(1.0);
    r.timeline.clear();
    r.cluster_timeline.clear();
    r.pods.clear();
    r.summary.duration_s = 0.0;
    write_run_charts(&dir, &r, "empty").expect("charts");
    decode(&dir.join("timeline.png"));
    svg(&dir.join("pending-cdf.svg"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn charts_are_byte_identical_across_renders() {
    let (a, b) = (temp_dir("charts-det-a"), temp_dir("charts-det-b"));
    let r = checkout(1.0);
    write_run_charts(&a, &r, "demo").expect("charts");
    write_run_charts(&b, &r, "demo").expect("charts");
    for f in ["timeline.png", "timeline.svg", "pending-cdf.png", "pending-cdf.svg"] {
        assert_eq!(fs::read(a.join(f)).unwrap(), fs::read(b.join(f)).unwrap(), "{f}");
    }
    let _ = fs::remove_dir_all(&a);
    let _ = fs::remove_dir_all(&b);
}
