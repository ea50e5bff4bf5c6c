//! `engram plot`: the figures it draws from a hand-made file with a protocol, an ACh
//! trace and recall images, from a real run, in every format and size, and its errors.

use std::path::{Path, PathBuf};

use engram::plot::{FIGURE_WIDTH, PlotOptions, RATES_HEIGHT, raster_size, recall_grid_size};
use hdf5::types::VarLenUnicode;
use image::RgbImage;

use crate::common::{assert_ok, code, dir_entries, run_json, small_cuba, stderr, stdout};

/// Dot colour of the first population and shade of the first phase in `raster.png`.
const FIRST_POP_DOT: [u8; 3] = [31, 90, 180];
const FIRST_PHASE_SHADE: [u8; 3] = [204, 226, 245];

const N_EXC: u64 = 300;
const N_INH: u64 = 60;
const DURATION_MS: f64 = 600.0;
const PHASES: [(&str, f64, f64); 4] = [
    ("encode 0", 0.0, 150.0),
    ("rest", 150.0, 250.0),
    ("recall 0", 250.0, 400.0),
    ("recall 1", 400.0, 600.0),
];

fn write_spikes(spikes: &hdf5::Group, name: &str, n: u64, every_ms: f64) -> hdf5::Result<()> {
    let g = spikes.create_group(name)?;
    g.new_attr::<u64>().create("n_nodes")?.write_scalar(&n)?;
    let (mut ts, mut ids) = (Vec::new(), Vec::new());
    let mut t = every_ms;
    let mut k = 0u64;
    while t <= DURATION_MS {
        // A neuron per step, wrapping round: a diagonal sweep, denser in the phases.
        ts.push(t);
        ids.push((k * 7) % n);
        k += 1;
        t += if (250.0..400.0).contains(&t) {
            every_ms / 3.0
        } else {
            every_ms
        };
    }
    g.new_dataset::<f64>()
        .shape(ts.len())
        .create("timestamps")?
        .write_raw(&ts)?;
    g.new_dataset::<u64>()
        .shape(ids.len())
        .create("node_ids")?
        .write_raw(&ids)?;
    Ok(())
}

/// The 4x4 images of two memories: a cross and a diagonal.
fn memories() -> Vec<Vec<f64>> {
    let cross: Vec<f64> = (0..16)
        .map(|i| if i % 4 == 1 || i / 4 == 1 { 1.0 } else { 0.0 })
        .collect();
    let diagonal: Vec<f64> = (0..16)
        .map(|i| if i % 4 == i / 4 { 1.0 } else { 0.0 })
        .collect();
    vec![cross, diagonal]
}

/// Writes a file with two populations, `/engram` duration, `/protocol`, `/ach` and
/// `/stimuli`, in the layout `engram plot` documents (`stop_ms` replaces the phase ends).
fn write_experiment_file(path: &Path, stop_ms: Option<&[f64]>) -> hdf5::Result<()> {
    let f = hdf5::File::create(path)?;
    let spikes = f.create_group("spikes")?;
    write_spikes(&spikes, "exc", N_EXC, 0.5)?;
    write_spikes(&spikes, "inh", N_INH, 2.0)?;
    let meta = f.create_group("engram")?;
    meta.new_attr::<f64>()
        .create("duration_ms")?
        .write_scalar(&DURATION_MS)?;

    let protocol = f.create_group("protocol")?;
    let names: Vec<VarLenUnicode> = PHASES.iter().map(|p| p.0.parse().unwrap()).collect();
    protocol
        .new_dataset::<VarLenUnicode>()
        .shape(names.len())
        .create("names")?
        .write_raw(&names)?;
    let start: Vec<f64> = PHASES.iter().map(|p| p.1).collect();
    let stop: Vec<f64> =
        stop_ms.map_or_else(|| PHASES.iter().map(|p| p.2).collect(), <[f64]>::to_vec);
    for (name, v) in [("start_ms", &start), ("stop_ms", &stop)] {
        protocol
            .new_dataset::<f64>()
            .shape(v.len())
            .create(name)?
            .write_raw(v)?;
    }

    let ach = f.create_group("ach")?;
    let time: Vec<f64> = (0..=600).map(f64::from).collect();
    let conc: Vec<f64> = time
        .iter()
        .map(|&t| {
            if t < 250.0 {
                0.1
            } else {
                0.1 + 0.9 * (-(t - 250.0) / 120.0).exp()
            }
        })
        .collect();
    for (name, v) in [("time_ms", &time), ("concentration", &conc)] {
        ach.new_dataset::<f64>()
            .shape(v.len())
            .create(name)?
            .write_raw(v)?;
    }

    let stimuli = f.create_group("stimuli")?;
    stimuli
        .new_attr::<u64>()
        .create("width")?
        .write_scalar(&4u64)?;
    stimuli
        .new_attr::<u64>()
        .create("height")?
        .write_scalar(&4u64)?;
    let encoded: Vec<f64> = memories().concat();
    // Recalled: the stored images, faded and with a little noise.
    let recalled: Vec<f64> = encoded
        .iter()
        .enumerate()
        .map(|(i, v)| 0.6 * v + 0.1 * ((i * 37 % 11) as f64 / 11.0))
        .collect();
    for (name, v) in [("encoded", &encoded), ("recalled", &recalled)] {
        stimuli
            .new_dataset::<f64>()
            .shape((2, 16))
            .create(name)?
            .write_raw(v)?;
    }
    f.close()
}

fn open_png(path: &Path) -> RgbImage {
    assert!(path.exists(), "{} was not written", path.display());
    let bytes = std::fs::read(path).expect("the PNG is readable");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()))
        .to_rgb8()
}

fn has_pixel(img: &RgbImage, rgb: [u8; 3]) -> bool {
    img.pixels().any(|p| p.0 == rgb)
}

/// Asserts that the image is not all its background (its top-left pixel).
fn assert_not_blank(img: &RgbImage, what: &str) {
    let bg = *img.get_pixel(0, 0);
    let differ = img.pixels().filter(|p| **p != bg).count();
    assert!(differ > 100, "{what} is blank ({differ} pixels differ)");
}

/// Runs `engram plot FILE [-o DIR]`.
///
/// HDF5 file locking is off for it: a file this test process wrote may still be locked by
/// an `engram` child of another test, forked while the file was open, which inherited the
/// descriptor.
fn plot(file: &Path, dir: Option<&Path>) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_engram"));
    cmd.arg("plot")
        .arg(file)
        .env("HDF5_USE_FILE_LOCKING", "FALSE");
    if let Some(d) = dir {
        cmd.arg("-o").arg(d);
    }
    cmd.output().expect("the engram binary starts")
}

#[test]
fn experiment_file_gives_raster_rates_and_recall_grid() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("recall.h5");
    write_experiment_file(&file, None).expect("the test file is written");
    let dir = tmp.path().join("figs");
    let out = plot(&file, Some(&dir));
    assert_ok(&out, "engram plot");
    assert_eq!(
        dir_entries(&dir),
        ["raster.png", "rates.png", "recall_grid.png"]
    );
    let listed: Vec<PathBuf> = stdout(&out).lines().map(PathBuf::from).collect();
    assert_eq!(listed.len(), 3, "{}", stdout(&out));

    let raster = open_png(&dir.join("raster.png"));
    let names: Vec<&str> = PHASES.iter().map(|p| p.0).collect();
    assert_eq!(
        raster.dimensions(),
        raster_size(&[N_EXC, N_INH], &names, true, &PlotOptions::default()).unwrap()
    );
    assert_not_blank(&raster, "raster.png");
    assert!(has_pixel(&raster, FIRST_POP_DOT), "no spike dots drawn");
    assert!(has_pixel(&raster, FIRST_PHASE_SHADE), "phases not shaded");
    // The ACh trace is drawn in brown below the rasters.
    assert!(
        raster.pixels().any(|p| p.0 == [120, 60, 0]),
        "no ACh trace drawn"
    );

    let rates = open_png(&dir.join("rates.png"));
    assert_eq!(rates.dimensions(), (FIGURE_WIDTH, RATES_HEIGHT));
    assert_not_blank(&rates, "rates.png");
    assert!(has_pixel(&rates, FIRST_POP_DOT), "no rate line drawn");

    let grid = open_png(&dir.join("recall_grid.png"));
    let stimuli = engram_io::StimulusImages {
        width: 4,
        height: 4,
        encoded: memories(),
        recalled: memories(),
        fidelity: None,
    };
    assert_eq!(
        grid.dimensions(),
        recall_grid_size(&stimuli, &PlotOptions::default()).unwrap()
    );
    assert_not_blank(&grid, "recall_grid.png");
    // Normalised per image: each image has black and white pixels.
    assert!(has_pixel(&grid, [0, 0, 0]) && has_pixel(&grid, [255, 255, 255]));
}

#[test]
fn real_run_plots_beside_the_file_and_fast() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("small.h5");
    run_json(&small_cuba(), &file, &["--threads", "2"]);
    let started = std::time::Instant::now();
    let out = plot(&file, None);
    let took = started.elapsed();
    assert_ok(&out, "engram plot");
    let dir = tmp.path().join("small_plots");
    assert_eq!(dir_entries(&dir), ["raster.png", "rates.png"]);
    let raster = open_png(&dir.join("raster.png"));
    assert_eq!(
        raster.dimensions(),
        raster_size(&[800, 200], &[], false, &PlotOptions::default()).unwrap()
    );
    assert_not_blank(&raster, "raster.png");
    assert!(has_pixel(&raster, FIRST_POP_DOT), "no spike dots drawn");
    assert!(
        !has_pixel(&raster, FIRST_PHASE_SHADE),
        "shaded without a protocol"
    );
    assert_not_blank(&open_png(&dir.join("rates.png")), "rates.png");
    assert!(took.as_secs_f64() < 5.0, "plotting took {took:?}");
}

#[test]
fn missing_or_foreign_files_exit_with_2() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let missing = tmp.path().join("nope.h5");
    let out = plot(&missing, None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));

    let text = tmp.path().join("notes.h5");
    std::fs::write(&text, "not HDF5").unwrap();
    let out = plot(&text, None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not an HDF5 file"),
        "{}",
        stderr(&out)
    );

    let other = tmp.path().join("other.h5");
    hdf5::File::create(&other)
        .and_then(|f| f.create_group("data").map(|_| ()))
        .unwrap();
    let out = plot(&other, None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no /spikes group"),
        "{}",
        stderr(&out)
    );
    assert!(!tmp.path().join("other_plots").exists());
}

#[test]
fn malformed_protocol_is_named() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("bad.h5");
    write_experiment_file(&file, Some(&[1.0, 2.0])).unwrap();
    let out = plot(&file, None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/protocol: names, start_ms and stop_ms have different lengths"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reports_give_a_figure_of_traces() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let base = std::fs::read_to_string(crate::common::repo_file("tests/configs/small_recall.toml"))
        .expect("small_recall.toml");
    let config = tmp.path().join("traces.toml");
    let reports = "\n[[output.reports]]\npopulation = \"mtl\"\nvariables = [\"v\", \"bap\"]\n\
                   \n[[output.reports]]\npopulation = \"sensory\"\nvariables = [\"i_gap\"]\n\
                   neurons = { fraction = 0.5 }\ninterval_ms = 0.5\n";
    std::fs::write(&config, format!("{base}{reports}")).expect("written");
    let file = tmp.path().join("traces.h5");
    run_json(&config, &file, &[]);
    let dir = tmp.path().join("figs");
    assert_ok(&plot(&file, Some(&dir)), "engram plot");
    assert_eq!(
        dir_entries(&dir),
        ["raster.png", "rates.png", "recall_grid.png", "traces.png"]
    );
    let traces = open_png(&dir.join("traces.png"));
    assert_eq!(traces.dimensions().0, FIGURE_WIDTH);
    assert_not_blank(&traces, "traces.png");
    assert!(has_pixel(&traces, [31, 90, 180]), "no trace drawn");
    assert!(has_pixel(&traces, FIRST_PHASE_SHADE), "phases not shaded");

    // Three panels (mtl v, mtl bap, sensory i_gap), named in full in SVG; any size.
    let svg_dir = tmp.path().join("svg");
    let o = plot_with(
        &file,
        &svg_dir,
        &["--format", "svg", "--width", "1000", "--height", "1200"],
    );
    assert_ok(&o, "engram plot --format svg");
    let svg = std::fs::read_to_string(svg_dir.join("traces.svg")).expect("traces.svg");
    assert!(
        svg.starts_with("<svg width=\"1000\" height=\"1200\""),
        "{}",
        &svg[..80]
    );
    for text in [
        "mtl: membrane potential, v in mV",
        "mtl: dendritic bAP trace, bap in mV",
        "sensory: gap-junction current, i_gap in pA",
        "time (ms)",
        "phases:",
    ] {
        assert!(svg.contains(text), "traces.svg lacks {text:?}");
    }
}

/// Runs `engram plot FILE -o DIR EXTRA...` (file locking off, as [`plot`]).
fn plot_with(file: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_engram"))
        .arg("plot")
        .arg(file)
        .arg("-o")
        .arg(dir)
        .args(extra)
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("the engram binary starts")
}

/// The files of every figure in `dir` with `extension`, by name.
fn figures(dir: &Path, extension: &str) -> Vec<String> {
    let mut names: Vec<String> = crate::common::dir_entries(dir)
        .into_iter()
        .filter(|n| n.ends_with(&format!(".{extension}")))
        .collect();
    names.sort();
    names
}

#[test]
fn every_format_writes_every_figure_with_its_signature() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("recall.h5");
    write_experiment_file(&file, None).expect("the test file is written");
    for (format, magic) in [
        ("png", &b"\x89PNG\r\n\x1a\n"[..]),
        ("svg", &b"<svg "[..]),
        ("pdf", &b"%PDF-"[..]),
    ] {
        let dir = tmp.path().join(format);
        let o = plot_with(&file, &dir, &["--format", format, "--json"]);
        assert_ok(&o, format);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        let listed: Vec<&str> = j["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f.as_str().expect("a path"))
            .collect();
        let expected: Vec<String> = ["raster", "rates", "recall_grid"]
            .iter()
            .map(|n| format!("{n}.{format}"))
            .collect();
        assert_eq!(figures(&dir, format), expected, "{format}");
        assert_eq!(listed.len(), 3, "{format}: {listed:?}");
        for name in &expected {
            let bytes = std::fs::read(dir.join(name)).expect("written");
            assert!(bytes.len() > 1000, "{name}: {} bytes", bytes.len());
            assert!(
                bytes.starts_with(magic),
                "{name} does not start with {magic:?}"
            );
        }
    }
    // SVG: the texts of the figures, as text.
    let raster = std::fs::read_to_string(tmp.path().join("svg/raster.svg")).unwrap();
    for text in [
        "neuron (node id)",
        "time (ms)",
        "ACh (a.u.)",
        "acetylcholine concentration",
        "phases:",
        // The legend names each kind of phase once, with the range of its numbers.
        "encode 0",
        "rest",
        "recall 0–1",
    ] {
        assert!(raster.contains(text), "raster.svg lacks {text:?}");
    }
    assert!(!raster.contains("…"), "a phase name was cut short");
    let rates = std::fs::read_to_string(tmp.path().join("svg/rates.svg")).unwrap();
    assert!(rates.contains("firing rate (Hz)"));
    let grid = std::fs::read_to_string(tmp.path().join("svg/recall_grid.svg")).unwrap();
    assert!(
        grid.contains("r beside each memory: Pearson r of the stored and the recalled image"),
        "the grid says what r compares"
    );
    // PDF: text as glyphs of the embedded font, one page of the figure's size.
    let pdf = std::fs::read(tmp.path().join("pdf/rates.pdf")).unwrap();
    let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"DejaVuSans"), "the font is not embedded");
    assert!(
        has(format!("/MediaBox [0 0 {FIGURE_WIDTH} {RATES_HEIGHT}]").as_bytes()),
        "the page is not 1 point per pixel"
    );
}

#[test]
fn size_and_font_options_shape_the_figures() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("recall.h5");
    write_experiment_file(&file, None).expect("the test file is written");
    let dir = tmp.path().join("sized");
    let o = plot_with(&file, &dir, &["--width", "900", "--height", "700"]);
    assert_ok(&o, "--width --height");
    for name in ["raster.png", "rates.png", "recall_grid.png"] {
        let img = open_png(&dir.join(name));
        assert_eq!(img.dimensions(), (900, 700), "{name}");
        assert_not_blank(&img, name);
    }
    // A larger font keeps more room for text: at the default height the raster grows.
    let names: Vec<&str> = PHASES.iter().map(|p| p.0).collect();
    let big = PlotOptions {
        font_size: 30.0,
        ..PlotOptions::default()
    };
    let (w, h) = raster_size(&[N_EXC, N_INH], &names, true, &big).unwrap();
    let (_, h0) = raster_size(&[N_EXC, N_INH], &names, true, &PlotOptions::default()).unwrap();
    assert!(h > h0, "{h} <= {h0}");
    let dir = tmp.path().join("big");
    assert_ok(
        &plot_with(&file, &dir, &["--font-size", "30"]),
        "--font-size",
    );
    assert_eq!(open_png(&dir.join("raster.png")).dimensions(), (w, h));

    // --log has no colour scale to change here: the same figures.
    let dir_log = tmp.path().join("log");
    assert_ok(&plot_with(&file, &dir_log, &["--log"]), "--log");
    let plain = tmp.path().join("plain");
    assert_ok(&plot_with(&file, &plain, &[]), "default");
    for name in ["raster.png", "rates.png", "recall_grid.png"] {
        assert_eq!(
            std::fs::read(dir_log.join(name)).unwrap(),
            std::fs::read(plain.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn bad_plot_options_exit_with_2_and_name_the_option() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("recall.h5");
    write_experiment_file(&file, None).expect("the test file is written");
    let dir = tmp.path().join("figs");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--format", "jpg"],
            "error: invalid value 'jpg' for '--format <FORMAT>'",
        ),
        (
            &["--width", "50"],
            "error: --width 50: give 200 to 16000 pixels",
        ),
        (
            &["--height", "abc"],
            "error: invalid value 'abc' for '--height <PX>'",
        ),
        (
            &["--font-size", "1000"],
            "error: --font-size 1000: give 4 to 100",
        ),
        (
            &["--height", "250"],
            "error: --height 250: too small for the raster's 3 panels",
        ),
    ];
    for (args, message) in cases {
        let o = plot_with(&file, &dir, args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with(message), "{args:?}: {}", stderr(&o));
        assert!(!dir.exists(), "{args:?}: figures written");
    }
    let o = plot_with(&file, &dir, &["--format", "jpg"]);
    assert!(
        stderr(&o).contains("[possible values: png, svg, pdf]"),
        "{}",
        stderr(&o)
    );
}
