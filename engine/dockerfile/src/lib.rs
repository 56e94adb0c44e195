//! Dockerfile parsing, word expansion and `.dockerignore` matching for Berth's classic
//! builder (`POST /build`).
//!
//! - [`parser`]: Dockerfile text to global ARGs and stages of typed instructions.
//! - [`expand`]: Docker's shell-word processing (quotes, escapes, `${VAR:-x}`...).
//! - [`ignore`]: `.dockerignore` patterns and matching.
//!
//! Why not the `dockerfile-parser` crate: as of 0.9 it has no heredoc support (upstream
//! issue #37 is open, the PRs unmerged), its pest grammar hard-codes `\` so the
//! `# escape=` directive is not honoured, and HEALTHCHECK, SHELL, ONBUILD and friends
//! come back as untyped "misc" instructions. It keeps ARGs before FROM but only
//! substitutes plain `$VAR`/`${VAR}` in image names, with no `${VAR:-x}` operators or
//! quote removal, so we would have rewritten most of it anyway; Docker's format is
//! line-oriented and small enough to implement here with std only.

mod duration;
pub mod expand;
pub mod ignore;
mod json;
pub mod parser;

pub use duration::parse_duration;
pub use expand::{expand_word, expand_words, split_key_values, split_words_raw, ExpandError, KeyValue, PairsError};
pub use ignore::{DockerIgnore, IgnoreError};
pub use parser::{
    parse, ArgDecl, Command, CopyArgs, CopySource, Dockerfile, Flag, Healthcheck, HealthcheckCmd, Heredoc, Instruction,
    InstructionKind, Onbuild, ParseError, Stage,
};
