-- wrk's summary as one JSON line (latencies in microseconds), read by bench/run.py.
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_timeout":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
