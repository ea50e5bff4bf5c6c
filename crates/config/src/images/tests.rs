//! Reading image folders: order, gray levels, formats and the errors about `stimuli.path`.

use std::path::PathBuf;

use approx::assert_abs_diff_eq;
use engram_experiments::stimuli::{ImageSet, Pattern, StimulusError};

use super::*;

fn images(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/images")).join(sub)
}

fn at(p: &Pattern, x: usize, y: usize) -> f64 {
    let (w, _) = p.shape().unwrap();
    p.intensities()[y * w + x]
}

/// The error as the config reports it.
fn message(e: &ImageError) -> String {
    StimulusError::from(e.clone()).to_string()
}

#[test]
fn loads_the_ten_digits_in_file_order() {
    let set = load_images(&images("digits"), None).unwrap();
    assert_eq!((set.width, set.height), (16, 16));
    assert_eq!(set.patterns.len(), 10);
    assert_eq!(file_names(&set), digit_files("pgm"));
    for p in &set.patterns {
        assert_eq!(p.shape(), Some((16, 16)));
        assert_eq!(p.len(), 256);
        assert!(p.intensities().iter().all(|&v| v == 0.0 || v == 1.0));
        // Glyphs are 5x7 at scale 2, centred: nothing in the 1-pixel top/bottom margins.
        assert!((0..16).all(|x| at(p, x, 0) == 0.0 && at(p, x, 15) == 0.0));
    }
    // Each font dot is 2x2 pixels: "1" has 10 dots, "8" has 17.
    assert_eq!(set.patterns[1].n_active(), 10 * 4);
    assert_eq!(set.patterns[8].n_active(), 17 * 4);
    // Every digit differs from every other.
    for i in 0..10 {
        for j in i + 1..10 {
            assert_ne!(set.patterns[i], set.patterns[j], "digits {i} and {j}");
        }
    }
}

#[test]
fn loads_the_ten_blurred_letters_as_grayscale_png() {
    let set = load_images(&images("letters"), None).unwrap();
    assert_eq!((set.width, set.height), (16, 16));
    assert_eq!(file_names(&set), letter_files("ABCDEFGHJK"));
    // "H" is a 2x2-scaled glyph under a 3x3 box blur (integer division by 9): just left
    // of the left stroke a pixel sees 3 of 9 ink pixels (85), inside the 2-pixel stroke 6
    // (170), where the crossbar meets the stroke 8 (226); the corners stay black and no
    // pixel keeps full ink.
    let h = &set.patterns[7];
    assert_eq!(at(h, 2, 5), 85.0 / 255.0);
    assert_eq!(at(h, 3, 5), 170.0 / 255.0);
    assert_eq!(at(h, 4, 7), 226.0 / 255.0);
    assert_eq!(at(h, 0, 0), 0.0);
    assert!(h.intensities().iter().all(|&v| v < 1.0));
    // The second held-out folder: the same style, ten other letters.
    let set2 = load_images(&images("letters2"), None).unwrap();
    assert_eq!((set2.width, set2.height, set2.patterns.len()), (16, 16, 10));
    for (a, b) in set.patterns.iter().zip(&set2.patterns) {
        assert_ne!(a, b);
    }
    let gray = h
        .intensities()
        .iter()
        .filter(|&&v| v > 0.0 && v < 1.0)
        .count();
    assert!(gray > 40, "{gray} gray pixels");
}

/// `letter_X.png` for each letter X of `letters`, in order.
fn letter_files(letters: &str) -> Vec<String> {
    letters.chars().map(|c| format!("letter_{c}.png")).collect()
}

/// `digit_0.EXT` ... `digit_9.EXT`.
fn digit_files(ext: &str) -> Vec<String> {
    (0..10).map(|d| format!("digit_{d}.{ext}")).collect()
}

fn file_names(set: &ImageSet) -> Vec<String> {
    set.files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn loads_the_other_fonts_in_file_order() {
    let lower = load_images(&images("lowercase"), None).unwrap();
    assert_eq!((lower.width, lower.height), (16, 16));
    assert_eq!(file_names(&lower), letter_files("abdeghknps"));
    let small = load_images(&images("digits3x5"), None).unwrap();
    assert_eq!(file_names(&small), digit_files("png"));
    // "8" of the 3 x 5 font at scale 3 starts at column 3, row 0, in ink 200; its upper
    // hole is the glyph cell (1, 1): columns 6-8, rows 3-5.
    let eight = &small.patterns[8];
    assert_eq!(at(eight, 3, 0), 200.0 / 255.0);
    assert_eq!(at(eight, 11, 14), 200.0 / 255.0);
    assert_eq!(at(eight, 7, 4), 0.0);
    assert_eq!(at(eight, 12, 0), 0.0);
    assert!(
        eight
            .intensities()
            .iter()
            .all(|&v| v == 0.0 || v == 200.0 / 255.0)
    );
    for (folder, letters) in [
        ("letters3x5", "ACEFHKLPTU"),
        ("letters3x5b", "BDGJMNORSY"),
        ("letters4x5", "ABDEGKMNRW"),
    ] {
        let set = load_images(&images(folder), None).unwrap();
        assert_eq!(file_names(&set), letter_files(letters), "{folder}");
        // Full ink, sharp: every pixel is 0 or 1.
        for p in &set.patterns {
            assert!(p.intensities().iter().all(|&v| v == 0.0 || v == 1.0));
        }
    }
    let digits = load_images(&images("digits4x5"), None).unwrap();
    assert_eq!(file_names(&digits), digit_files("png"));
    let lower2 = load_images(&images("lowercase2"), None).unwrap();
    assert_eq!(file_names(&lower2), letter_files("cfmortuwxz"));
    // "T": a 9-pixel bar, 3 rows high, over a 3-pixel stem, 12 rows high.
    let t = &load_images(&images("letters3x5"), None).unwrap().patterns[8];
    assert_eq!(t.n_active(), 9 * 3 + 3 * 12);
}

#[test]
fn missing_folder_is_an_error_naming_stimuli_path() {
    let dir = images("no_such_folder");
    let e = load_images(&dir, None).unwrap_err();
    let msg = message(&e);
    assert_eq!(StimulusError::from(e.clone()).field(), "stimuli.path");
    assert!(msg.starts_with("stimuli.path: "), "{msg}");
    assert!(
        msg.contains("no_such_folder") && msg.contains("does not exist"),
        "{msg}"
    );
}

#[test]
fn a_file_is_not_a_folder() {
    let e = load_images(&images("digits/digit_0.pgm"), None).unwrap_err();
    assert!(matches!(e, ImageError::NotADir { .. }));
    assert!(message(&e).starts_with("stimuli.path: "), "{e}");
}

#[test]
fn folder_without_images_is_an_error_listing_extensions() {
    let e = load_images(&images("empty"), None).unwrap_err();
    let msg = message(&e);
    assert!(matches!(e, ImageError::NoImages { .. }));
    assert!(msg.starts_with("stimuli.path: "), "{msg}");
    assert!(
        msg.contains("empty") && msg.contains("holds no images"),
        "{msg}"
    );
    for ext in ["png", "jpg", "jpeg", "pgm"] {
        assert!(msg.contains(ext), "{msg}");
    }
}

#[test]
fn images_of_different_sizes_are_an_error_naming_the_file_and_sizes() {
    let e = load_images(&images("mismatched"), None).unwrap_err();
    let msg = message(&e);
    assert!(msg.starts_with("stimuli.path: "), "{msg}");
    assert!(msg.contains("b_8x8.pgm") && msg.contains("8x8"), "{msg}");
    assert!(
        msg.contains("a_16x16.pgm") && msg.contains("16x16"),
        "{msg}"
    );
    assert!(
        matches!(
            e,
            ImageError::SizeMismatch {
                width: 8,
                height: 8,
                first_width: 16,
                first_height: 16,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn reads_png_and_jpeg_ignores_other_files_and_reports_broken_images() {
    let dir = tempfile::tempdir().unwrap();
    let gray = image::GrayImage::from_fn(4, 3, |x, y| image::Luma([(x * 60 + y * 5) as u8]));
    gray.save(dir.path().join("a.png")).unwrap();
    let rgb = image::RgbImage::from_pixel(4, 3, image::Rgb([200, 200, 200]));
    rgb.save(dir.path().join("b.JPG")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    std::fs::create_dir(dir.path().join("sub.png")).unwrap();

    let set = load_images(dir.path(), None).unwrap();
    assert_eq!((set.width, set.height), (4, 3));
    assert_eq!(set.patterns.len(), 2);
    assert_abs_diff_eq!(
        set.patterns[0].intensities()[1],
        60.0 / 255.0,
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        set.patterns[0].intensities()[4 + 3],
        185.0 / 255.0,
        epsilon = 1e-12
    );
    for &v in set.patterns[1].intensities() {
        assert_abs_diff_eq!(v, 200.0 / 255.0, epsilon = 0.02);
    }

    std::fs::write(dir.path().join("c.png"), b"not really a png").unwrap();
    let e = load_images(dir.path(), None).unwrap_err();
    let msg = message(&e);
    assert!(matches!(e, ImageError::Unreadable { .. }), "{e:?}");
    assert!(
        msg.starts_with("stimuli.path: ") && msg.contains("c.png"),
        "{msg}"
    );
}

#[test]
fn a_folder_too_large_for_the_memory_limit_is_refused_from_its_headers() {
    // digits: 10 images; a limit below their decoded size refuses the folder before any
    // is decoded, and names the folder and the estimate.
    let dir = images("digits");
    let need = load_images(&dir, None).unwrap();
    let pixels = need.width * need.height * need.patterns.len();
    let tight = MemoryLimit {
        bytes: (pixels * 8) as u64 / 2,
        source: "a test limit".into(),
    };
    let e = load_images(&dir, Some(&tight)).unwrap_err();
    assert!(matches!(e, ImageError::TooLarge { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("digits") && text.contains("a test limit"),
        "{text}"
    );
    // A memory refusal of the field `stimuli.path`, by its type.
    let field = StimulusError::from(e).into_field_error();
    assert_eq!(field.path, "stimuli.path");
    assert_eq!(field.kind, engram_core::ErrorKind::Memory);
    assert_eq!(field.message, text);
    let roomy = MemoryLimit {
        bytes: 1 << 30,
        source: "x".into(),
    };
    assert_eq!(load_images(&dir, Some(&roomy)).unwrap().patterns.len(), 10);
}
