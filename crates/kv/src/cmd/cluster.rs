//! CLUSTER, READONLY, READWRITE and ASKING, answered as a redis-server
//! started without `cluster-enabled` answers them: every one is a known
//! command (so COMMAND lists it and arity errors read as Redis's), and
//! running one gets "ERR This instance has cluster support disabled".
//! Client libraries probe with these (`CLUSTER INFO`, `READONLY`) to learn
//! whether they talk to a cluster; an unknown-command error would read as
//! a broken server rather than a standalone one.

use super::{Command, Ctx, FAST, NO_KEYS};

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr) => {
        command!("cluster", $name, $arity, $flags | NO_KEYS, 0, 0, 0, disabled)
    };
}

/// CLUSTER and the connection commands of cluster mode.
pub static COMMANDS: &[Command] =
    &[cmd!("cluster", -2, 0), cmd!("readonly", 1, FAST), cmd!("readwrite", 1, FAST), cmd!("asking", 1, FAST)];

/// The error each of them gives.
pub const CLUSTER_DISABLED: &str = "ERR This instance has cluster support disabled";

fn disabled(ctx: &mut Ctx<'_>) {
    ctx.error(CLUSTER_DISABLED);
}
