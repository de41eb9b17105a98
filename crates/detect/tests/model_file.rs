//! The BlazeFace model the build embeds is the repository's own copy, so a Rust build needs no
//! npm: the file under `models/` is the one `models/README.md` and THIRD_PARTY_NOTICES.md
//! describe (same SHA-256), and no build script of the workspace reads `node_modules/`.
//! (`scripts/check-rust-build.sh`, run by `npm test`, checks the proxy in a copy without
//! `node_modules/`.)

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_model_is_the_file_its_notices_describe() {
    let model = crate_dir().join("models/face_detection_full_range_sparse.tflite");
    let bytes = std::fs::read(&model).unwrap_or_else(|err| panic!("{}: {err}", model.display()));
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    for notice in [
        crate_dir().join("models/README.md"),
        crate_dir().join("../../THIRD_PARTY_NOTICES.md"),
    ] {
        let text = read_text(&notice);
        assert!(
            text.contains(&digest),
            "{} does not name the model's SHA-256 {digest}",
            notice.display()
        );
        assert!(text.contains("0.4.1646425229"), "{}", notice.display());
    }
}

#[test]
fn no_build_script_reads_node_modules() {
    let crates = crate_dir().join("..");
    let mut scripts = vec![crate_dir().join("../../build.rs")];
    for entry in std::fs::read_dir(&crates).expect("crates/") {
        scripts.push(entry.expect("entry").path().join("build.rs"));
    }
    let mut read = 0;
    for script in scripts.iter().filter(|path| path.is_file()) {
        read += 1;
        assert!(
            !read_text(script).contains("node_modules"),
            "{} reads node_modules/: a Rust build must not need npm",
            script.display()
        );
    }
    assert!(read >= 1, "the detector's build.rs at least");
}
