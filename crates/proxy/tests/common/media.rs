//! The test photos and videos that `scripts/test-media.sh` builds out of packages (scikit-image's
//! photos, rustface's group photo, videos made from them): faces the sandbox really detects.

use std::path::Path;

/// A test photo or video from `target/test-media/` (made by `scripts/test-media.sh` when
/// missing).
pub fn test_media(name: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join("target/test-media").join(name);
    if !path.exists() {
        let status = std::process::Command::new("bash")
            .arg(root.join("scripts/test-media.sh"))
            .current_dir(&root)
            .status()
            .expect("bash runs scripts/test-media.sh");
        assert!(status.success(), "scripts/test-media.sh failed");
    }
    std::fs::read(path).expect("test media")
}
