//! Prometheus metrics and the middleware that records them, plus one structured log line per
//! request. Labels use the matched route pattern, never the raw path, so cardinality stays
//! bounded; the log line carries no headers, query string or body, so credentials never reach it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use bytes::Bytes;
use futures::StreamExt;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry};

use super::AppState;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    bytes_in: IntCounter,
    bytes_out: IntCounter,
    /// Xorb bytes uploaded to the CAS, and the part of them that was new to Grove.
    pub xet_received: IntCounter,
    pub xet_stored: IntCounter,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "grove_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["method", "route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "grove_http_request_duration_seconds",
                "Time to produce the response head, by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["method", "route"],
        )?;
        let bytes_in =
            IntCounter::new("grove_http_request_bytes_total", "Request body bytes read")?;
        let bytes_out = IntCounter::new(
            "grove_http_response_bytes_total",
            "Response body bytes written",
        )?;
        let xet_received = IntCounter::new(
            "grove_xet_xorb_bytes_received_total",
            "Xorb bytes uploaded through Xet",
        )?;
        let xet_stored = IntCounter::new(
            "grove_xet_xorb_bytes_stored_total",
            "Xorb bytes uploaded through Xet that Grove did not have yet",
        )?;
        registry.register(Box::new(xet_received.clone()))?;
        registry.register(Box::new(xet_stored.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(bytes_in.clone()))?;
        registry.register(Box::new(bytes_out.clone()))?;
        Ok(Self {
            registry,
            requests,
            duration,
            bytes_in,
            bytes_out,
            xet_received,
            xet_stored,
        })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> anyhow::Result<String> {
        let mut out = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}

/// Counts the bytes of a response body as they are written.
struct CountingBody {
    inner: BoxBody,
    counter: IntCounter,
}

impl MessageBody for CountingBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            this.counter.inc_by(chunk.len() as u64);
        }
        polled
    }
}

/// Middleware: counts request bytes, response bytes, requests and latency; logs one line.
pub async fn track(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let Some(metrics) = metrics else {
        return next.call(req).await.map(|res| res.map_into_boxed_body());
    };
    let counter = metrics.bytes_in.clone();
    let payload = req.take_payload().map(move |chunk| {
        if let Ok(bytes) = &chunk {
            counter.inc_by(bytes.len() as u64);
        }
        chunk
    });
    req.set_payload(actix_web::dev::Payload::Stream {
        payload: Box::pin(payload),
    });

    let method = req.method().to_string();
    let path = req.path().to_string();
    let started = Instant::now();
    let res = next.call(req).await?.map_into_boxed_body();
    let elapsed = started.elapsed();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_string());
    let status = res.status().as_u16();
    metrics
        .requests
        .with_label_values(&[method.as_str(), route.as_str(), &status.to_string()])
        .inc();
    metrics
        .duration
        .with_label_values(&[method.as_str(), route.as_str()])
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "grove::http",
        method,
        path,
        route,
        status,
        micros = elapsed.as_micros() as u64,
        "request"
    );
    let out = metrics.bytes_out.clone();
    Ok(res.map_body(move |_, inner| {
        BoxBody::new(CountingBody {
            inner,
            counter: out,
        })
    }))
}
