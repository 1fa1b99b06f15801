//! Reading a Prometheus server's HTTP API: the targets of a scrape job (to
//! find a fleet's instances) and range queries (the goroutine history it
//! already keeps for weeks). Only what leakscope asks, bounded in size and
//! time like every other fetch.

use std::collections::BTreeMap;

use super::client::{Client, Expect, FetchLimits, Timeouts};
use super::target::Target;

/// Largest answer read from the API.
const MAX_ANSWER_BYTES: u64 = 32 << 20;

/// One series of a range query: its labels and `(unix seconds, value)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series' labels, sorted by name so output is stable.
    pub labels: BTreeMap<String, String>,
    /// Samples in the order the API returns them (by time); values as floats, like Prometheus.
    pub points: Vec<(f64, f64)>,
}

/// `GET {url}/api/v1/{endpoint}`, its `data` once the API says `success`.
pub fn api_get(
    url: &str,
    endpoint: &str,
    cancelled: &dyn Fn() -> bool,
) -> Result<serde_json::Value, String> {
    let api = Target::parse(&format!("{}/api/v1/", url.trim_end_matches('/')))
        .map_err(|e| e.to_string())?;
    let client = Client::new(api, Vec::new(), Timeouts::default(), FetchLimits::default());
    let (body, fetched) = client
        .fetch_to_memory(endpoint, Expect::Index, MAX_ANSWER_BYTES, cancelled)
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        format!(
            "{}: HTTP {}, not the Prometheus API's JSON ({e})",
            fetched.url, fetched.status
        )
    })?;
    if v["status"] != "success" {
        return Err(format!(
            "{}: {}",
            fetched.url,
            v["error"].as_str().unwrap_or("the API did not succeed")
        ));
    }
    Ok(v["data"].clone())
}

/// The scrape URLs of the active targets of `job` that carry every matcher.
pub fn job_targets(
    url: &str,
    job: &str,
    matchers: &[(String, String)],
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<String>, String> {
    let data = api_get(url, "targets?state=active", cancelled)?;
    let list = data["activeTargets"]
        .as_array()
        .ok_or_else(|| format!("{url}/api/v1/targets: no activeTargets in the answer"))?;
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

/// Percent-encodes a query parameter.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A range query (`/api/v1/query_range`) from `start` to `end` (Unix
/// seconds) every `step` seconds: every series it returns.
pub fn query_range(
    url: &str,
    query: &str,
    start: f64,
    end: f64,
    step: f64,
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<Series>, String> {
    let endpoint = format!(
        "query_range?query={}&start={start:.3}&end={end:.3}&step={}",
        encode(query),
        step.max(0.001)
    );
    let data = api_get(url, &endpoint, cancelled)?;
    let result = data["result"]
        .as_array()
        .ok_or_else(|| format!("{url}/api/v1/query_range: no result in the answer"))?;
    Ok(result
        .iter()
        .map(|s| Series {
            labels: s["metric"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            points: s["values"]
                .as_array()
                .map(|vals| {
                    vals.iter()
                        .filter_map(|p| {
                            let t = p[0].as_f64()?;
                            let v = p[1].as_str()?.parse::<f64>().ok()?;
                            Some((t, v))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect())
}

/// The PromQL of the goroutine count of the instance the session folders
/// among `dirs` polled: `go_goroutines{instance="host:port"}` (Prometheus
/// names an instance by its scrape address, which is the pprof one when a
/// service serves both on one port; otherwise the user gives the query).
pub fn instance_query(dirs: &[std::path::PathBuf]) -> Option<String> {
    let url = dirs.iter().find_map(|d| {
        crate::formats::session_dir::read_manifest(d)
            .ok()
            .flatten()
            .map(|m| m.url)
    })?;
    let target = Target::parse(&url).ok()?;
    let o = target.origin();
    let host = if o.host.contains(':') {
        format!("[{}]", o.host)
    } else {
        o.host.clone()
    };
    Some(format!("go_goroutines{{instance=\"{host}:{}\"}}", o.port))
}

/// A goroutine history: the first series `query` returns over the last
/// `range`, in about 400 points, with a title saying what it is.
pub fn history(
    url: &str,
    query: &str,
    range: std::time::Duration,
    cancelled: &dyn Fn() -> bool,
) -> Result<(String, Vec<(f64, f64)>), String> {
    let end = super::now_ns() as f64 / 1e9;
    let secs = range.as_secs_f64().max(60.0);
    let step = (secs / 400.0).max(1.0);
    let series = query_range(url, query, end - secs, end, step, cancelled)?;
    let first = series
        .into_iter()
        .next()
        .ok_or_else(|| format!("Prometheus has no series for {query}"))?;
    let span =
        crate::model::time::format_duration_ns(i64::try_from(range.as_nanos()).unwrap_or(i64::MAX));
    Ok((format!("{query} over the last {span}"), first.points))
}
