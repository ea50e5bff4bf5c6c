//! Image folders as stimuli: `[stimuli] path` names a folder whose images become the
//! memories of an experiment.

use std::path::{Path, PathBuf};

use engram_core::memory::{MemoryEstimate, MemoryLimit};
use engram_experiments::stimuli::{ImageSet, Pattern, StimulusError};

/// File extensions [`load_images`] reads (compared case-insensitively).
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "pgm", "pbm", "ppm", "pnm"];

/// An image folder that cannot be used; every one is about `stimuli.path`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImageError {
    /// The image folder does not exist.
    #[error("folder {} does not exist", path.display())]
    MissingDir {
        /// The folder asked for.
        path: PathBuf,
    },
    /// The image path exists but is not a folder.
    #[error("{} is not a folder (give a folder of images)", path.display())]
    NotADir {
        /// The path asked for.
        path: PathBuf,
    },
    /// The image folder cannot be listed.
    #[error("cannot list folder {}: {reason}", path.display())]
    ListDir {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The folder holds no file with an image extension.
    #[error(
        "folder {} holds no images (accepted extensions: {}; other files are \
         ignored)",
        path.display(),
        IMAGE_EXTENSIONS.join(", ")
    )]
    NoImages {
        /// The folder.
        path: PathBuf,
    },
    /// An image file cannot be read or decoded.
    #[error("cannot read image {}: {reason}", path.display())]
    Unreadable {
        /// The image file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The folder's images would not fit in the memory the run may use.
    #[error("the images of {} {reason}", path.display())]
    TooLarge {
        /// The folder.
        path: PathBuf,
        /// The estimate and the limit.
        reason: String,
    },
    /// An image differs in size from the first image of the folder.
    #[error(
        "image {} is {width}x{height} but {} is {first_width}x{first_height}; \
         all images of a folder must have the same size",
        path.display(),
        first.display()
    )]
    SizeMismatch {
        /// The offending image.
        path: PathBuf,
        /// Its width (pixels).
        width: usize,
        /// Its height (pixels).
        height: usize,
        /// The first image in file-name order, which sets the size.
        first: PathBuf,
        /// Width of the first image.
        first_width: usize,
        /// Height of the first image.
        first_height: usize,
    },
}

/// An error of the field `stimuli.path`; a folder too large for the memory limit gives
/// [`StimulusError::TooLarge`].
impl From<ImageError> for StimulusError {
    fn from(e: ImageError) -> Self {
        let field = "stimuli.path".into();
        let message = e.to_string();
        match e {
            ImageError::TooLarge { .. } => StimulusError::TooLarge { field, message },
            _ => StimulusError::Invalid { field, message },
        }
    }
}

/// Loads every image of a folder as a memory.
///
/// Reads the files whose extension is one of [`IMAGE_EXTENSIONS`] (PNG, JPEG, and the
/// PNM family: PGM, PBM, PPM), case-insensitively; other files and sub-folders are ignored.
/// Files are sorted by file name (byte order: `10.png` sorts before `2.png`, so pad
/// numbers with zeros), and image `i` becomes memory `i`. Each image is converted to
/// grayscale in `[0, 1]`: 8- and 16-bit gray images exactly (`v / 255`, `v / 65535`),
/// colour images through the `image` crate's luma conversion; alpha is dropped.
///
/// Errors (all about `stimuli.path`): the folder is missing, is not a folder or cannot be
/// listed; it holds no image (the message lists the accepted extensions); a file cannot
/// be read or decoded (the message names the file); an image differs in size from the
/// first one (the message names both files and both sizes).
pub fn load_images(dir: &Path, memory: Option<&MemoryLimit>) -> Result<ImageSet, ImageError> {
    load_images_hashed(dir, memory).map(|(set, _)| set)
}

/// As [`load_images`], with the SHA-256 (hex) of each file's content as it was read and
/// decoded, in the order of `ImageSet::files`.
pub fn load_images_hashed(
    dir: &Path,
    memory: Option<&MemoryLimit>,
) -> Result<(ImageSet, Vec<String>), ImageError> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ImageError::MissingDir {
                path: dir.to_path_buf(),
            });
        }
        Err(e) => {
            return Err(ImageError::ListDir {
                path: dir.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    if !meta.is_dir() {
        return Err(ImageError::NotADir {
            path: dir.to_path_buf(),
        });
    }
    let list_err = |e: std::io::Error| ImageError::ListDir {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_err)? {
        let path = entry.map_err(list_err)?.path();
        let is_image = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_image && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(ImageError::NoImages {
            path: dir.to_path_buf(),
        });
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    fits(dir, &files, memory)?;

    let mut patterns: Vec<Pattern> = Vec::with_capacity(files.len());
    let mut digests = Vec::with_capacity(files.len());
    let mut size = (0, 0);
    for (i, path) in files.iter().enumerate() {
        let (w, h, intensities, digest) = read_gray(path)?;
        digests.push(digest);
        if i == 0 {
            size = (w, h);
        } else if (w, h) != size {
            return Err(ImageError::SizeMismatch {
                path: path.clone(),
                width: w,
                height: h,
                first: files[0].clone(),
                first_width: size.0,
                first_height: size.1,
            });
        }
        let pattern =
            Pattern::new(intensities, Some((w, h))).map_err(|e| ImageError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        patterns.push(pattern);
    }
    let set = ImageSet {
        folder: dir.to_path_buf(),
        width: size.0,
        height: size.1,
        files,
        patterns,
    };
    Ok((set, digests))
}

/// Refuses a folder whose images, once decoded (8 bytes a pixel, plus one decoding buffer
/// of up to 16 bytes a pixel), exceed `memory`. Reads only the image headers.
fn fits(dir: &Path, files: &[PathBuf], memory: Option<&MemoryLimit>) -> Result<(), ImageError> {
    if memory.is_none() {
        return Ok(());
    }
    let mut need = MemoryEstimate::new();
    let mut largest: f64 = 0.0;
    for path in files {
        let (w, h) = image::ImageReader::open(path)
            .and_then(|r| r.with_guessed_format())
            .map_err(|e| e.to_string())
            .and_then(|r| r.into_dimensions().map_err(|e| e.to_string()))
            .map_err(|reason| ImageError::Unreadable {
                path: path.clone(),
                reason,
            })?;
        let pixels = f64::from(w) * f64::from(h);
        largest = largest.max(pixels);
        need.add("images", pixels * 8.0);
    }
    need.add("decoding", largest * 16.0);
    need.check(memory).map_err(|e| ImageError::TooLarge {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Decodes one image into `(width, height, row-major gray in [0, 1], SHA-256 of the
/// file)`: the file is read once, and the bytes hashed are the bytes decoded.
fn read_gray(path: &Path) -> Result<(usize, usize, Vec<f64>, String), ImageError> {
    let unreadable = |reason: String| ImageError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let digest = crate::sha256_hex(&bytes);
    let mut reader = image::ImageReader::new(std::io::Cursor::new(&bytes));
    if let Ok(format) = image::ImageFormat::from_path(path) {
        reader.set_format(format);
    }
    let image = reader
        .with_guessed_format()
        .map_err(|e| unreadable(e.to_string()))?
        .decode()
        .map_err(|e| unreadable(e.to_string()))?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w == 0 || h == 0 {
        return Err(unreadable(format!(
            "the image is {w}x{h}: it has no pixels"
        )));
    }
    use image::DynamicImage as D;
    let gray: Vec<f64> = match &image {
        D::ImageLuma8(b) => b.as_raw().iter().map(|&v| f64::from(v) / 255.0).collect(),
        D::ImageLumaA8(b) => b.pixels().map(|p| f64::from(p.0[0]) / 255.0).collect(),
        D::ImageLuma16(b) => b.as_raw().iter().map(|&v| f64::from(v) / 65535.0).collect(),
        D::ImageLumaA16(b) => b.pixels().map(|p| f64::from(p.0[0]) / 65535.0).collect(),
        other => other
            .to_luma32f()
            .as_raw()
            .iter()
            .map(|&v| f64::from(v).clamp(0.0, 1.0))
            .collect(),
    };
    if gray.len() != w * h || gray.iter().any(|v| !v.is_finite()) {
        return Err(unreadable(
            "decoded pixels are not a valid gray image".into(),
        ));
    }
    Ok((w, h, gray, digest))
}

#[cfg(test)]
mod tests;
