//! The harness itself: the registry starts, and the fixture images it
//! serves are what later suites rely on.

use berth_e2e::fixtures::{self, REPO};
use berth_e2e::Registry;
use std::io::Read;

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn registry_serves_every_fixture() {
    let reg = Registry::start().await;
    let fx = fixtures::push_all(&reg).await;
    assert!(fx.single.starts_with(&format!("{}/{REPO}:", reg.addr)));

    let (mt, single) = reg.get_manifest(REPO, "single").await;
    assert_eq!(mt, fixtures::DOCKER_MANIFEST);
    let single = json(&single);
    assert_eq!(single["layers"].as_array().unwrap().len(), 1);

    // The multi-layer image's last layer carries a whiteout and an opaque marker.
    let (_, multi) = reg.get_manifest(REPO, "multi").await;
    let multi = json(&multi);
    let last = multi["layers"][2]["digest"].as_str().unwrap();
    let gz = reg.get_blob(REPO, last).await;
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut tar_bytes).unwrap();
    let mut archive = tar::Archive::new(&tar_bytes[..]);
    let names: Vec<String> =
        archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
    assert!(names.contains(&"data/.wh.gone".to_string()), "{names:?}");
    assert!(names.contains(&"opq/.wh..wh..opq".to_string()), "{names:?}");

    let (mt, index) = reg.get_manifest(REPO, "multiarch").await;
    assert_eq!(mt, fixtures::OCI_INDEX);
    let archs: Vec<_> =
        json(&index)["manifests"].as_array().unwrap().iter().map(|m| m["platform"]["architecture"].clone()).collect();
    assert_eq!(archs, ["amd64", "arm64"]);

    let (mt, z) = reg.get_manifest(REPO, "zstd").await;
    assert_eq!(mt, fixtures::OCI_MANIFEST);
    let z = json(&z);
    assert_eq!(z["layers"][1]["mediaType"], fixtures::OCI_LAYER_ZSTD);
    let blob = reg.get_blob(REPO, z["layers"][1]["digest"].as_str().unwrap()).await;
    let tar_bytes = zstd::decode_all(&blob[..]).unwrap();
    let config = json(&reg.get_blob(REPO, z["config"]["digest"].as_str().unwrap()).await);
    assert_eq!(config["rootfs"]["diff_ids"][1], berth_e2e::registry::sha256_digest(&tar_bytes));
}
