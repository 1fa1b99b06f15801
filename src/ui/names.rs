//! How function names and source paths read on screen.
//!
//! Import paths make Go names long (`github.com/acme/relay/internal/pubsub.(*Broker).Publish`),
//! and a panel that shows them whole shows little else: lane labels, flame
//! boxes and suspect rows were cut before the function began. Screens show
//! the short form ([`frames::short_function`]) and the last parts of file
//! paths by default; View ▸ "Full function names" shows them whole. Tooltips,
//! the stack panel and exports always show the full name, which is what
//! identifies the function.

use std::borrow::Cow;

use crate::analysis::frames;
use crate::model::{FrameId, StackTable};

/// The name setting of one frame, handed to every view that shows names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// Show names and paths whole.
    pub full: bool,
}

impl Names {
    /// Names whole, whatever the setting (tooltips, stack panels).
    pub const FULL: Names = Names { full: true };

    /// A function name as the setting wants it.
    pub fn function<'a>(self, name: &'a str) -> Cow<'a, str> {
        if self.full {
            Cow::Borrowed(name)
        } else {
            frames::short_function(name)
        }
    }

    /// A source path as the setting wants it.
    pub fn file(self, path: &str) -> &str {
        if self.full {
            path
        } else {
            frames::short_file(path)
        }
    }

    /// A frame's function.
    pub fn frame_function(self, table: &StackTable, frame: FrameId) -> String {
        self.function(table.function(frame)).into_owned()
    }

    /// `file:line` of a frame.
    pub fn location(self, table: &StackTable, frame: FrameId) -> String {
        let f = table.frame(frame);
        format!("{}:{}", self.file(table.str(f.file)), f.line)
    }

    /// `function (file:line)` of a frame.
    pub fn frame(self, table: &StackTable, frame: FrameId) -> String {
        format!(
            "{} ({})",
            self.frame_function(table, frame),
            self.location(table, frame)
        )
    }
}
