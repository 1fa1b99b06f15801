//! Where a fleet's targets come from: the instances of a Prometheus scrape
//! job, or a plain file of targets, asked again every refresh so instances
//! that come and go are watched and dropped.
//!
//! Prometheus already knows every instance of a service (it scrapes them);
//! its `/api/v1/targets` lists each with its labels and scrape URL. The
//! pprof URL of an instance is the same host with the port (and path) the
//! service serves pprof on, which the user gives: the metrics port is often
//! not the pprof one.

use std::path::PathBuf;
use std::time::Duration;

use crate::live::{Client, Expect, FetchLimits, Target, Timeouts, Watch};

/// Largest answer read from Prometheus or a targets file.
const MAX_LIST_BYTES: usize = 16 << 20;

/// Where targets are listed.
#[derive(Clone, Debug)]
pub enum Source {
    /// The active targets of a scrape job, with label matchers.
    Prometheus {
        /// The Prometheus server, e.g. `http://prometheus:9090`.
        url: String,
        job: String,
        /// `label=value` pairs every target must carry.
        matchers: Vec<(String, String)>,
    },
    /// One target per line (`#` starts a comment).
    File(PathBuf),
}

/// A source of targets and how to turn what it lists into pprof URLs.
#[derive(Clone, Debug)]
pub struct Discovered {
    pub source: Source,
    /// How often the source is asked again.
    pub refresh: Duration,
    /// The port pprof is served on, when not the scrape port.
    pub pprof_port: Option<u16>,
    /// The path of the pprof folder on each instance.
    pub pprof_path: String,
}

impl Discovered {
    pub fn new(source: Source) -> Discovered {
        Discovered {
            source,
            refresh: Duration::from_secs(60),
            pprof_port: None,
            pprof_path: "/debug/pprof/".to_owned(),
        }
    }

    /// The targets the source lists now.
    pub fn list(&self, cancelled: &dyn Fn() -> bool) -> Result<Vec<Target>, String> {
        match &self.source {
            Source::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                if text.len() > MAX_LIST_BYTES {
                    return Err(format!("{}: larger than 16 MiB", path.display()));
                }
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim())
                    .filter(|l| !l.is_empty())
                    .map(|l| Target::parse(l).map_err(|e| format!("{}: {e}", path.display())))
                    .collect()
            }
            Source::Prometheus { url, job, matchers } => {
                let body = prometheus_targets(url, cancelled)?;
                let scrape_urls = active_targets(&body, job, matchers)
                    .map_err(|e| format!("{url}/api/v1/targets: {e}"))?;
                scrape_urls.iter().map(|u| self.pprof_target(u)).collect()
            }
        }
    }

    /// The pprof folder on the host a scrape URL names.
    fn pprof_target(&self, scrape_url: &str) -> Result<Target, String> {
        let scrape = Target::parse(scrape_url).map_err(|e| e.to_string())?;
        let o = scrape.origin();
        let port = self.pprof_port.unwrap_or(o.port);
        let host = if o.host.contains(':') {
            format!("[{}]", o.host)
        } else {
            o.host.clone()
        };
        let path = format!("/{}", self.pprof_path.trim_start_matches('/'));
        Target::parse(&format!("{}://{host}:{port}{path}", o.scheme.as_str()))
            .map_err(|e| e.to_string())
    }
}

/// `GET /api/v1/targets?state=active` of a Prometheus server.
fn prometheus_targets(url: &str, cancelled: &dyn Fn() -> bool) -> Result<String, String> {
    let api = Target::parse(&format!("{}/api/v1/", url.trim_end_matches('/')))
        .map_err(|e| e.to_string())?;
    let client = Client::new(api, Vec::new(), Timeouts::default(), FetchLimits::default());
    let mut body = Vec::new();
    let watch = Watch {
        cancelled,
        progress: &|_, _| {},
    };
    let fetched = client
        .fetch(
            "targets?state=active",
            None,
            Expect::Index,
            &mut |d| {
                if body.len() + d.len() > MAX_LIST_BYTES {
                    return Err(crate::live::LiveError::BodyTooLarge {
                        url: url.to_owned(),
                        limit: MAX_LIST_BYTES as u64,
                    });
                }
                body.extend_from_slice(d);
                Ok(())
            },
            &watch,
        )
        .map_err(|e| e.to_string())?;
    if fetched.status != 200 {
        return Err(format!("{}: HTTP {}", fetched.url, fetched.status));
    }
    String::from_utf8(body).map_err(|_| format!("{}: not UTF-8", fetched.url))
}

/// The scrape URLs of the active targets of `job` that carry every matcher.
pub fn active_targets(
    json: &str,
    job: &str,
    matchers: &[(String, String)],
) -> Result<Vec<String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not the targets API's JSON ({e})"))?;
    if v["status"] != "success" {
        return Err(format!(
            "the API says {}",
            v["error"].as_str().unwrap_or("it did not succeed")
        ));
    }
    let list = v["data"]["activeTargets"]
        .as_array()
        .ok_or("no data.activeTargets in the answer")?;
    let mut out: Vec<String> = list
        .iter()
        .filter(|t| t["labels"]["job"] == job)
        .filter(|t| {
            matchers
                .iter()
                .all(|(k, val)| t["labels"][k] == val.as_str())
        })
        .filter_map(|t| t["scrapeUrl"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}
