//! Copies the detector models into `OUT_DIR`, so the library can `include_bytes!` them:
//! MediaPipe's BlazeFace full-range model (sparse), kept in the repository under `models/` (see
//! `models/README.md` for where it comes from), and with the feature `seeta` the SeetaFace model
//! out of the `rustface` package as Cargo downloaded it. Nothing comes from npm: a Rust build
//! needs no npm.

use std::path::{Path, PathBuf};
use std::process::Command;

const MODEL: &str = "model/seeta_fd_frontal_v1.0.bin";
/// The BlazeFace model, relative to this crate's folder.
const BLAZEFACE: &str = "models/face_detection_full_range_sparse.tflite";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    copy_blazeface(&manifest_dir, &out_dir);
    if std::env::var_os("CARGO_FEATURE_SEETA").is_none() {
        return;
    }
    let rustface_dir = find_rustface(&manifest_dir).unwrap_or_else(|err| {
        panic!("cannot find the rustface package with `cargo metadata`: {err}")
    });
    let model = rustface_dir.join(MODEL);
    println!("cargo:rerun-if-changed={}", model.display());
    std::fs::copy(&model, out_dir.join("seeta_fd_frontal_v1.0.bin"))
        .unwrap_or_else(|err| panic!("cannot copy {}: {err}", model.display()));
}

/// Copies the BlazeFace model from this crate's `models/` folder, or stops the build naming the
/// missing file.
fn copy_blazeface(manifest_dir: &Path, out_dir: &Path) {
    let model = manifest_dir.join(BLAZEFACE);
    println!("cargo:rerun-if-changed={}", model.display());
    if !model.is_file() {
        panic!(
            "the face model {} is missing: it is part of the repository (crates/detect/{BLAZEFACE}, \
             see crates/detect/models/README.md); restore it with `git checkout -- crates/detect/models`",
            model.display()
        );
    }
    std::fs::copy(
        &model,
        out_dir.join("face_detection_full_range_sparse.tflite"),
    )
    .unwrap_or_else(|err| panic!("cannot copy {}: {err}", model.display()));
}

/// The directory of the `rustface` package this build resolves to.
fn find_rustface(manifest_dir: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Offline first (everything this platform needs is already downloaded); metadata also lists
    // other platforms' packages, so fall back to a normal run that may download their manifests.
    let mut last_error = String::new();
    let mut stdout = None;
    for offline in [true, false] {
        let mut command = Command::new(&cargo);
        command.args(["metadata", "--format-version", "1", "--manifest-path"]);
        command.arg(manifest_dir.join("Cargo.toml"));
        if offline {
            command.arg("--offline");
        }
        let output = command.output().map_err(|err| err.to_string())?;
        if output.status.success() {
            stdout = Some(output.stdout);
            break;
        }
        last_error = String::from_utf8_lossy(&output.stderr).into_owned();
    }
    let output_stdout = stdout.ok_or(last_error)?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output_stdout).map_err(|err| err.to_string())?;
    let packages = metadata["packages"]
        .as_array()
        .ok_or("no packages in metadata")?;
    packages
        .iter()
        .filter(|p| p["name"] == "rustface")
        .filter_map(|p| p["manifest_path"].as_str())
        .map(|m| Path::new(m).parent().map(Path::to_path_buf))
        .find_map(|dir| dir.filter(|d| d.join(MODEL).is_file()))
        .ok_or_else(|| "no rustface package with the model file".to_owned())
}
