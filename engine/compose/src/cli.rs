//! The command line, as `docker compose` spells it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::Target;

#[derive(Debug, Parser)]
#[command(name = "docker compose", about = "Define and run multi-container applications with Docker", version = crate::VERSION)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ProjectArgs {
    /// Compose configuration files
    #[arg(short = 'f', long = "file")]
    pub files: Vec<PathBuf>,
    /// Project name
    #[arg(short = 'p', long = "project-name")]
    pub project_name: Option<String>,
    /// Specify an alternate working directory (default: the path of the first Compose file)
    #[arg(long, global = true)]
    pub project_directory: Option<PathBuf>,
    /// Specify an alternate environment file
    #[arg(long = "env-file", global = true)]
    pub env_files: Vec<PathBuf>,
    /// Specify a profile to enable
    #[arg(long = "profile", id = "profile", global = true)]
    pub profiles: Vec<String>,
    /// Control when to print ANSI control characters ("never"|"always"|"auto")
    #[arg(long, global = true, default_value = "auto")]
    pub ansi: String,
    /// Set type of progress output (auto, tty, plain, json, quiet)
    #[arg(long, global = true)]
    pub progress: Option<String>,
    /// Control max parallelism, -1 for unlimited
    #[arg(long, global = true, default_value_t = -1, allow_hyphen_values = true)]
    pub parallel: i64,
    /// The docker CLI's `--host`/`--context`, filled in from the arguments before `compose`.
    #[arg(skip)]
    pub target: Target,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and start containers
    Up(UpArgs),
    /// Stop and remove containers, networks
    Down(DownArgs),
    /// List containers
    Ps(PsArgs),
    /// View output from containers
    Logs(LogsArgs),
    /// Parse, resolve and render compose file in canonical format
    Config(ConfigArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Run a one-off command on a service
    Run(RunArgs),
    /// Creates containers for a service
    Create(CreateArgs),
    /// Start services
    Start(ServicesArgs),
    /// Stop services
    Stop(StopArgs),
    /// Restart service containers
    Restart(StopArgs),
    /// Removes stopped service containers
    Rm(RmArgs),
    /// Force stop service containers
    Kill(KillArgs),
    /// Pause services
    Pause(ServicesArgs),
    /// Unpause services
    Unpause(ServicesArgs),
    /// Pull service images
    Pull(PullArgs),
    /// Push service images
    Push(ServicesArgs),
    /// Build or rebuild services
    Build(BuildArgs),
    /// List images used by the created containers
    Images(ImagesArgs),
    /// Print the public port for a port binding
    Port(PortArgs),
    /// Display the running processes
    Top(ServicesArgs),
    /// List running compose projects
    Ls(LsArgs),
    /// Block until containers of all (or specified) services stop
    Wait(WaitArgs),
    /// Copy files/folders between a service container and the local filesystem
    Cp(CpArgs),
    /// Receive real time events from containers
    Events(EventsArgs),
    /// Show the Docker Compose version information
    Version(VersionArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServicesArgs {
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct UpArgs {
    /// Detached mode: Run containers in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Build images before starting containers
    #[arg(long)]
    pub build: bool,
    /// Don't build an image, even if it's policy
    #[arg(long)]
    pub no_build: bool,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long)]
    pub pull: Option<String>,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long)]
    pub no_recreate: bool,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Don't start the services after creating them
    #[arg(long)]
    pub no_start: bool,
    /// Wait for services to be running|healthy. Implies detached mode
    #[arg(long)]
    pub wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long)]
    pub wait_timeout: Option<u64>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Stops all containers if any container was stopped. Incompatible with -d
    #[arg(long)]
    pub abort_on_container_exit: bool,
    /// Return the exit code of the selected service container. Implies --abort-on-container-exit
    #[arg(long)]
    pub exit_code_from: Option<String>,
    /// Use this timeout in seconds for container shutdown when attached or when containers are already running
    #[arg(short, long)]
    pub timeout: Option<i64>,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Show timestamps
    #[arg(long)]
    pub timestamps: bool,
    /// Recreate anonymous volumes instead of retrieving data from the previous containers
    #[arg(short = 'V', long)]
    pub renew_anon_volumes: bool,
    /// Detach when the first container exits (accepted for compatibility)
    #[arg(long)]
    pub quiet_pull: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section and anonymous volumes attached to containers
    #[arg(short, long)]
    pub volumes: bool,
    /// Remove images used by services ("local"|"all")
    #[arg(long)]
    pub rmi: Option<String>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Specify a shutdown timeout in seconds
    #[arg(short, long)]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct PsArgs {
    /// Show all stopped containers (including those created by the run command)
    #[arg(short, long)]
    pub all: bool,
    /// Format the output: table (default), json, or a Go template
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Display services
    #[arg(long)]
    pub services: bool,
    /// Filter services by status
    #[arg(long)]
    pub status: Vec<String>,
    /// Filter services by a property (supported filters: status)
    #[arg(long)]
    pub filter: Option<String>,
    #[arg(value_name = "SERVICE")]
    pub names: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs for each container
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Show logs since timestamp or relative (e.g. 42m for 42 minutes)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp or relative
    #[arg(long)]
    pub until: Option<String>,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    /// index of the container if service has multiple replicas
    #[arg(long)]
    pub index: Option<u64>,
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq)]
pub enum ConfigFormat {
    #[default]
    Yaml,
    Json,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArgs {
    /// Format the output
    #[arg(long, value_enum, default_value_t)]
    pub format: ConfigFormat,
    /// Only validate the configuration, don't print anything
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the service names, one per line
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    pub volumes: bool,
    /// Print the network names, one per line
    #[arg(long)]
    pub networks: bool,
    /// Print the profile names, one per line
    #[arg(long)]
    pub profiles: bool,
    /// Print the image names, one per line
    #[arg(long)]
    pub images: bool,
    /// Save to file (default to stdout)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Don't interpolate environment variables (accepted; output is always interpolated)
    #[arg(long)]
    pub no_interpolate: bool,
    pub service_names: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ExecArgs {
    /// Detached mode: Run command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    /// Give extended privileges to the process
    #[arg(long)]
    pub privileged: bool,
    /// Run the command as this user
    #[arg(short, long)]
    pub user: Option<String>,
    /// Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Path to workdir directory for this command
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Interactive (accepted for compatibility, always on)
    #[arg(short, long, default_value_t = true)]
    pub interactive: bool,
    pub service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    pub detach: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Add or override a label
    #[arg(short, long = "label")]
    pub labels: Vec<String>,
    /// Bind mount a volume
    #[arg(short, long = "volume")]
    pub volumes: Vec<String>,
    /// Publish a container's port(s) to the host
    #[arg(short, long = "publish")]
    pub publish: Vec<String>,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(long)]
    pub service_ports: bool,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Override the entrypoint of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Run as specified username or uid
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Disable pseudo-TTY allocation (default: auto-detected)
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Keep STDIN open even if not attached (accepted; always on when attached)
    #[arg(short, long)]
    pub interactive: bool,
    /// Build image before starting container
    #[arg(long)]
    pub build: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    pub service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct CreateArgs {
    #[arg(long)]
    pub build: bool,
    #[arg(long)]
    pub no_build: bool,
    #[arg(long)]
    pub force_recreate: bool,
    #[arg(long)]
    pub no_recreate: bool,
    #[arg(long)]
    pub pull: Option<String>,
    #[arg(long)]
    pub remove_orphans: bool,
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct StopArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short, long)]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct RmArgs {
    /// Don't ask to confirm removal
    #[arg(short, long)]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short, long)]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short, long)]
    pub volumes: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct KillArgs {
    /// SIGNAL to send to the container
    #[arg(short, long, default_value = "SIGKILL")]
    pub signal: String,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct PullArgs {
    /// Pull without printing progress information
    #[arg(short, long)]
    pub quiet: bool,
    /// Ignore images that can be built
    #[arg(long)]
    pub ignore_buildable: bool,
    /// Pull what it can and ignores images with pull failures
    #[arg(long)]
    pub ignore_pull_failures: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct BuildArgs {
    /// Do not use cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pub pull: bool,
    /// Don't print anything to STDOUT
    #[arg(short, long)]
    pub quiet: bool,
    /// Set build-time variables for services
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ImagesArgs {
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct PortArgs {
    /// index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    pub service: String,
    pub private_port: u16,
}

#[derive(Debug, Args, Clone, Default)]
pub struct LsArgs {
    /// Show all stopped Compose projects
    #[arg(short, long)]
    pub all: bool,
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only display project names
    #[arg(short, long)]
    pub quiet: bool,
    /// Filter output based on conditions provided (name=...)
    #[arg(long)]
    pub filter: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct CpArgs {
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH (accepted for compatibility)
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// SERVICE:SRC_PATH or a local path (`-` for a tar on stdin)
    pub source: String,
    /// SERVICE:DEST_PATH or a local path (`-` for a tar on stdout)
    pub destination: String,
}

#[derive(Debug, Args, Clone, Default)]
pub struct WaitArgs {
    /// Drops project when the first container stops
    #[arg(long)]
    pub down_project: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct EventsArgs {
    /// Output events as a stream of json objects
    #[arg(long)]
    pub json: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct VersionArgs {
    /// Format the output. Values: [pretty | json]
    #[arg(long, default_value = "pretty")]
    pub format: String,
    /// Shows only Compose's version number
    #[arg(long)]
    pub short: bool,
}

/// Splits the docker CLI's global flags (given before `compose` when run as a plugin) from
/// Compose's own arguments. Standalone, every argument is Compose's.
pub fn split_plugin_args(args: Vec<String>) -> (Target, Vec<String>) {
    let mut target = Target::default();
    let Some(at) = plugin_position(&args) else {
        return (target, args);
    };
    let mut globals = args[1..at].iter();
    while let Some(flag) = globals.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| globals.next().cloned());
        match name {
            "-H" | "--host" => target.host = value(),
            "-c" | "--context" => target.context = value(),
            "--config" => target.config_dir = value().map(PathBuf::from),
            "-l" | "--log-level" | "--tlscacert" | "--tlscert" | "--tlskey" => {
                value();
            }
            _ => {}
        }
    }
    let mut rest = vec![args[0].clone()];
    rest.extend_from_slice(&args[at + 1..]);
    (target, rest)
}

/// Where `compose` sits when the docker CLI runs us as a plugin: after its global flags.
fn plugin_position(args: &[String]) -> Option<usize> {
    let takes_value =
        ["-H", "--host", "-c", "--context", "--config", "-l", "--log-level", "--tlscacert", "--tlscert", "--tlskey"];
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "compose" {
            return Some(i);
        }
        if !a.starts_with('-') {
            return None;
        }
        i += if takes_value.contains(&a) { 2 } else { 1 };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn plugin_arguments() {
        let (t, rest) = split_plugin_args(v(&["docker-compose", "-H", "unix:///x.sock", "compose", "up", "-d"]));
        assert_eq!(t.host.as_deref(), Some("unix:///x.sock"));
        assert_eq!(rest, v(&["docker-compose", "up", "-d"]));
        let (t, rest) = split_plugin_args(v(&["docker-compose", "--context=berth", "compose", "ps"]));
        assert_eq!(t.context.as_deref(), Some("berth"));
        assert_eq!(rest, v(&["docker-compose", "ps"]));
        let (t, rest) = split_plugin_args(v(&["docker-compose", "up", "compose"]));
        assert!(t.host.is_none());
        assert_eq!(rest, v(&["docker-compose", "up", "compose"]));
        Cli::try_parse_from(v(&["docker compose", "-f", "a.yml", "up", "-d", "--wait", "web"])).unwrap();
    }
}
