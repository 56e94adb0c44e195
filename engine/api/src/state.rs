//! What handlers are given: the engine's services.

use std::sync::Arc;

use berth_core::builder::BuildService;
use berth_core::containers::ContainerService;
use berth_core::events::EventBus;
use berth_core::images::ImageService;
use berth_core::network::NetworkService;
use berth_core::system::SystemService;
use berth_core::volumes::VolumeService;
use tokio::sync::watch;

#[derive(Clone)]
pub struct AppState {
    pub system: SystemService,
    pub events: Arc<EventBus>,
    pub images: ImageService,
    pub containers: ContainerService,
    pub volumes: VolumeService,
    pub network: NetworkService,
    pub builder: BuildService,
    /// Flips to `true` when the engine shuts down, so endless streams end.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    /// Resolves when the engine starts shutting down.
    pub async fn shutting_down(&self) {
        let mut rx = self.shutdown.clone();
        let _ = rx.wait_for(|down| *down).await;
    }
}
