//! Immutable data every input is loaded into: interned strings and frames,
//! stacks as a shared prefix tree, goroutines, snapshots and sessions.

pub mod goroutine;
pub mod incident;
pub mod intern;
pub mod session;
pub mod snapshot;
pub mod stack;
pub mod time;
pub mod timeline;
pub mod wait;
pub mod warning;

pub use goroutine::{Ancestor, Goroutine, StateKind};
pub use intern::{Interner, StrId};
pub use session::{Input, Session};
pub use snapshot::{
    Format, Mapping, PanicInfo, ProfileType, Sample, SampleProfile, Snapshot, SnapshotData, Source,
    ValueType,
};
pub use stack::{Frame, FrameId, LabelSetId, LabelValue, Labels, Remap, StackId, StackTable};
pub use timeline::{
    BlockingPoint, CpuSample, Creation, GoIndex, GoState, PLanes, ProcSpan, Span, SpanCause,
    SpanDetail, StwSpan, TimeSpan, Trace, TraceGoroutine, UserLog, UserRegion, UserTask,
};
pub use wait::{WaitCategory, WaitReason};
pub use warning::{Warning, Warnings};
