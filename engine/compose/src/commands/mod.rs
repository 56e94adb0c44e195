//! One module per group of commands; each loads the project it needs and calls the convergence code.

mod build;
mod config;
mod cp;
mod exec;
mod lifecycle;
mod logs;
mod ls;
mod ps;
mod up;

use bollard::Docker;

use crate::cli::{Cli, Command, ProjectArgs};
use crate::error::Result;
use crate::progress::Progress;
use crate::project::{self, LoadError, LoadOptions, Project};

/// What every command starts from: the project arguments and a way to reach the engine.
pub struct Ctx {
    pub args: ProjectArgs,
    pub progress: Progress,
}

impl Ctx {
    pub fn load_options(&self, services: &[String]) -> LoadOptions {
        LoadOptions {
            files: self.args.files.clone(),
            project_name: self.args.project_name.clone(),
            project_directory: self.args.project_directory.clone(),
            env_files: self.args.env_files.clone(),
            profiles: self.args.profiles.clone(),
            services: services.to_vec(),
        }
    }

    /// The project from its files, enabling the services named on the command line.
    pub fn project(&self, services: &[String]) -> Result<Project> {
        Ok(project::load(&self.load_options(services))?)
    }

    /// Commands that only need the project's name (`down`, `ps`, `logs`, ...) also work with
    /// `-p NAME` and no files, as in Compose.
    pub fn project_or_named(&self, services: &[String]) -> Result<Project> {
        match project::load(&self.load_options(services)) {
            Err(LoadError::NoConfig) if self.args.project_name.is_some() => {
                let name = self.args.project_name.clone().unwrap_or_default();
                Ok(project::empty(&name)?)
            }
            other => Ok(other?),
        }
    }

    pub fn docker(&self) -> Result<Docker> {
        Ok(self.args.target.connect()?)
    }
}

pub async fn run(cli: Cli) -> Result<i32> {
    let ctx = Ctx { progress: Progress::new(cli.project.progress.as_deref()), args: cli.project };
    match cli.command {
        Command::Config(a) => config::run(&ctx, &a),
        Command::Version(a) => ls::version(&a),
        Command::Ls(a) => ls::ls(&ctx, &a).await,
        Command::Up(a) => up::up(&ctx, &a).await,
        Command::Create(a) => up::create(&ctx, &a).await,
        Command::Down(a) => up::down(&ctx, &a).await,
        Command::Ps(a) => ps::run(&ctx, &a).await,
        Command::Logs(a) => {
            let p = ctx.project_or_named(&a.services)?;
            logs::run(&ctx.docker()?, &p, &a).await
        }
        Command::Exec(a) => exec::exec(&ctx, &a).await,
        Command::Run(a) => exec::run(&ctx, &a).await,
        Command::Start(a) => lifecycle::start(&ctx, &a).await,
        Command::Stop(a) => lifecycle::stop(&ctx, &a).await,
        Command::Restart(a) => lifecycle::restart(&ctx, &a).await,
        Command::Rm(a) => lifecycle::rm(&ctx, &a).await,
        Command::Kill(a) => lifecycle::kill(&ctx, &a).await,
        Command::Pause(a) => lifecycle::pause(&ctx, &a, true).await,
        Command::Unpause(a) => lifecycle::pause(&ctx, &a, false).await,
        Command::Top(a) => lifecycle::top(&ctx, &a).await,
        Command::Port(a) => lifecycle::port(&ctx, &a).await,
        Command::Wait(a) => lifecycle::wait(&ctx, &a).await,
        Command::Cp(a) => cp::run(&ctx, &a).await,
        Command::Events(a) => lifecycle::events(&ctx, &a).await,
        Command::Pull(a) => build::pull(&ctx, &a).await,
        Command::Push(a) => build::push(&ctx, &a).await,
        Command::Build(a) => build::build(&ctx, &a).await,
        Command::Images(a) => build::images(&ctx, &a).await,
    }
}
