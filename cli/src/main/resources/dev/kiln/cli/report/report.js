// Draws the charts of a Kiln report from the data embedded in the page (the command's --json
// output). Each chart element names its drawing (data-chart) and the entries it draws
// (data-items); the tables beside the charts are already in the page and need none of this.
(function () {
    'use strict';
    const data = JSON.parse(document.getElementById('kiln-data').textContent);
    // Solid colours: the browser test looks for them on each canvas to tell that a series was drawn.
    const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
    const HEIGHT = 300;

    function colour(i) {
        return palette[i % palette.length];
    }

    function label(r) {
        const ran = r.selected_backend || r.backend;
        return r.backend === ran ? r.backend : r.backend + ' -> ' + ran;
    }

    function indexes(n) {
        return Array.from({length: n}, (_, i) => i);
    }

    // The nearest-rank quantile of sorted values, as Kiln's p90 and p99 are taken; the minimum at 0.
    function quantile(sorted, fraction) {
        return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)];
    }

    // A log scale when the values span more than a factor of 20 (the reference backend next to
    // the fast ones), else linear.
    function yScale(series) {
        const values = series.flat().filter(v => v != null && v > 0);
        if (values.length === 0) {
            return {};
        }
        return Math.max(...values) / Math.min(...values) > 20 ? {distr: 3, log: 10} : {};
    }

    // Bars stand on zero: a linear scale from 0 (or below it, for negative changes), unless the
    // values span so much that only a log scale shows them all.
    function barScale(series) {
        const scale = yScale(series);
        if (scale.distr === 3) {
            return scale;
        }
        return {range: (u, min, max) => {
            const low = Math.min(0, min);
            const high = Math.max(0, max);
            return high === low ? [low, low + 1] : [low, high + (high - low) * 0.05];
        }};
    }

    // Tick labels that stay readable on a log scale: 1e-7 rather than uPlot's 0.
    function tick(v) {
        if (v == null) {
            return '';
        }
        const a = Math.abs(v);
        return a === 0 || (a >= 0.01 && a < 1e6) ? String(+v.toPrecision(4)) : v.toExponential(0);
    }

    function yAxis(name) {
        return {label: name, size: 60, values: (u, splits) => splits.map(tick)};
    }

    // Category labels under a bar chart's bars; none when too many to read.
    function categoryAxis(labels, name) {
        const axis = {label: name};
        if (labels.length <= 30) {
            axis.splits = () => indexes(labels.length);
            axis.values = (u, splits) => splits.map(v => labels[v] === undefined ? '' : labels[v]);
            axis.rotate = -30;
            axis.size = 90;
        } else {
            axis.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
        }
        return axis;
    }

    function bars(i, name) {
        return {label: name, stroke: colour(i), fill: colour(i), width: 1, points: {show: false},
            paths: uPlot.paths.bars({size: [0.7, 60]})};
    }

    function line(i, name) {
        return {label: name, stroke: colour(i), width: 2, points: {show: true, size: 5}};
    }

    function draw(el, opts, columns, colours) {
        opts.width = Math.max(320, el.clientWidth || 800);
        opts.height = opts.height || HEIGHT;
        el.dataset.colours = JSON.stringify(colours);
        el.dataset.points = String(columns.slice(1).flat().filter(v => v != null).length);
        return new uPlot(opts, columns, el);
    }

    const charts = {
        // Every timed run's latency against its percentile, a line per backend.
        latency(el, items) {
            const xs = indexes(101);
            const rows = items.map(i => data[i]);
            const ys = rows.map(r => {
                const sorted = r.run_ms.slice().sort((a, b) => a - b);
                return xs.map(p => quantile(sorted, p / 100));
            });
            draw(el, {
                scales: {x: {time: false}, y: yScale(ys)},
                axes: [{label: 'percentile of runs'}, yAxis('ms')],
                series: [{label: 'percentile'}].concat(rows.map((r, i) => line(i, label(r))))
                    .map((s, i) => (i === 0 ? s : Object.assign(s, {points: {show: false}}))),
            }, [xs].concat(ys), rows.map((r, i) => colour(i)));
        },

        // Images per second against batch size, a line per backend.
        throughput(el, items) {
            const rows = items.map(i => data[i]);
            const batches = [...new Set(rows.map(r => r.batch))].sort((a, b) => a - b);
            const backends = [...new Set(rows.map(r => r.backend))];
            const ys = backends.map(b => batches.map(n => {
                const r = rows.find(x => x.backend === b && x.batch === n);
                return r ? r.images_per_s : null;
            }));
            draw(el, {
                scales: {x: {time: false}, y: yScale(ys)},
                axes: [{label: 'batch size', splits: () => batches}, yAxis('images/s')],
                series: [{label: 'batch'}].concat(backends.map((b, i) => line(i, b))),
            }, [batches].concat(ys), backends.map((b, i) => colour(i)));
        },

        // Each profile entry's median time in execution order.
        profile(el, items) {
            const entries = data[items[0]].profile;
            const names = entries.map(e => e.name);
            draw(el, {
                scales: {x: {time: false, range: [-0.5, entries.length - 0.5]},
                    y: barScale([entries.map(e => e.median_micros)])},
                axes: [categoryAxis(names, 'node, in execution order'), yAxis('median us')],
                series: [{label: 'entry', value: (u, v) => (v == null ? '--' : names[v])}, bars(0, 'median us')],
            }, [indexes(entries.length), entries.map(e => e.median_micros)], [colour(0)]);
        },

        // The GFLOP/s of each node with multiply-accumulates in execution order, the machine's peak
        // (where the row has one) as a dashed line at its height.
        gflops(el, items) {
            const r = data[items[0]];
            const nodes = r.profile.filter(e => e.macs > 0);
            const names = nodes.map(e => e.name);
            const xs = indexes(nodes.length);
            const columns = [xs, nodes.map(e => e.gflop_per_s)];
            const series = [{label: 'node', value: (u, v) => (v == null ? '--' : names[v])}, bars(0, 'GFLOP/s')];
            const colours = [colour(0)];
            if (typeof r.peak_gflop_per_s === 'number') {
                columns.push(xs.map(() => r.peak_gflop_per_s));
                series.push({label: 'peak', stroke: colour(1), width: 2, dash: [8, 4],
                    points: {show: nodes.length === 1, size: 8, fill: colour(1)}});
                colours.push(colour(1));
            }
            draw(el, {
                scales: {x: {time: false, range: [-0.5, nodes.length - 0.5]}, y: barScale(columns.slice(1))},
                axes: [categoryAxis(names, 'node with multiply-accumulates, in execution order'), yAxis('GFLOP/s')],
                series: series,
            }, columns, colours);
        },

        // Every value's relative error along the network per backend, the tolerance as a band.
        errors(el, items) {
            const backends = items.map(i => data.backends[i]);
            const base = backends.reduce((a, b) => (b.values.length > a.values.length ? b : a), backends[0]);
            const names = base.values.map(v => v.value);
            const xs = indexes(names.length);
            const errors = backends.map(b => {
                const byValue = new Map(b.values.map(v => [v.value, v.rel_error]));
                return names.map(n => {
                    const e = byValue.get(n);
                    // Not drawn: 0 (exact) on a log scale, and NaN, which JSON carries as a string.
                    return typeof e === 'number' && e > 0 ? e : null;
                });
            });
            const tolerance = base.values.map(v => (typeof v.tolerance === 'number' && v.tolerance > 0 ? v.tolerance : null));
            const toleranceColour = '#2e7d32';
            const marks = backends.map((b, i) => ({
                colour: colour(i),
                fallback: b.values.map((v, at) => (v.fallback ? names.indexOf(v.value) : -1)).filter(at => at >= 0),
                first: b.first_divergent_node ? names.indexOf(b.first_divergent_node.value) : -1,
            }));
            const series = [{label: 'value', value: (u, v) => (v == null ? '--' : names[v])},
                {label: 'tolerance', stroke: toleranceColour, width: 1, dash: [6, 4], fill: 'rgba(46,125,50,0.12)',
                    fillTo: (u, idx, min) => min, points: {show: names.length === 1, size: 10, fill: toleranceColour}}]
                .concat(backends.map((b, i) => line(i, b.backend)));
            draw(el, {
                height: 340,
                scales: {x: {time: false, range: [-0.5, names.length - 0.5]}, y: {distr: 3, log: 10}},
                axes: [categoryAxis(names, 'value, in execution order'), yAxis('relative error')],
                series: series,
                hooks: {draw: [u => markNodes(u, marks)]},
            }, [xs, tolerance].concat(errors), backends.map((b, i) => colour(i)).concat([toleranceColour]));
        },

        // Each candidate's median time, the winner in its own colour.
        candidates(el, items) {
            const s = data.tuned[items[0]].selection;
            const names = s.candidates.map(c => c.backend);
            const winner = s.candidates.map(c => (c.backend === s.winner ? c.median_ms : null));
            const others = s.candidates.map(c => (c.backend === s.winner ? null : c.median_ms));
            draw(el, {
                scales: {x: {time: false, range: [-0.5, names.length - 0.5]}, y: barScale([winner, others])},
                axes: [categoryAxis(names, 'candidate'), yAxis('median ms')],
                series: [{label: 'candidate', value: (u, v) => (v == null ? '--' : names[v])},
                    bars(2, 'winner'), bars(0, 'other candidates')],
            }, [indexes(names.length), winner, others], [colour(2), colour(0)]);
        },

        // The mixed plan's placement along the network: a strip with a bar per node, coloured by the
        // backend that runs it; each boundary marked with what entering the next segment costs.
        placement(el, items) {
            const segments = data.tuned[items[0]].selection.mixed.segments;
            const count = segments[segments.length - 1].last_node + 1;
            const xs = indexes(count);
            const backends = [...new Set(segments.map(g => g.backend))];
            const names = xs.map(() => '');
            segments.forEach(g => {
                names[g.first_node] = g.first_name;
                names[g.last_node] = g.last_name;
            });
            const columns = [xs].concat(backends.map(b => xs.map(x =>
                (segments.some(g => g.backend === b && g.first_node <= x && x <= g.last_node) ? 1 : null))));
            const marks = segments.slice(1).map(g => ({at: g.first_node, cost: g.predicted_transfer_ms}));
            draw(el, {
                height: 200,
                scales: {x: {time: false, range: [-0.5, count - 0.5]}, y: {range: [0, 1.3]}},
                axes: [categoryAxis(names, 'node, in execution order'), {show: false}],
                series: [{label: 'node', value: (u, v) => (v == null ? '--' : String(v))}]
                    .concat(backends.map((b, i) => Object.assign(bars(i, b), {paths: uPlot.paths.bars({size: [1, 200]})}))),
                hooks: {draw: [u => markBoundaries(u, marks)]},
            }, columns, backends.map((b, i) => colour(i)));
        },

        // The change of each row's median, regressions in red.
        change(el, items) {
            const rows = items.map(i => data.rows[i]);
            const names = rows.map(r => r.model + ' ' + r.backend + ' b' + r.batch);
            const pick = wanted => rows.map(r => (wanted(r.verdict) ? r.change_pct : null));
            const changes = rows.map(r => r.change_pct).filter(v => v != null);
            draw(el, {
                scales: {x: {time: false, range: [-0.5, names.length - 0.5]},
                    y: {range: (u, min, max) => [Math.min(0, ...changes) - 1, Math.max(0, ...changes) + 1]}},
                axes: [categoryAxis(names, 'model, backend, batch'), yAxis('change of the median, %')],
                series: [{label: 'row', value: (u, v) => (v == null ? '--' : names[v])},
                    bars(1, 'regression'), bars(2, 'improvement'), bars(7, 'unchanged')],
            }, [indexes(names.length), pick(v => v === 'regression'), pick(v => v === 'improvement'),
                pick(v => v === 'unchanged')], [colour(1), colour(2), colour(7)]);
        },
    };

    // A dashed line at each boundary of a mixed plan, with the predicted cost of entering what follows.
    function markBoundaries(u, marks) {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#333';
        ctx.fillStyle = '#333';
        ctx.lineWidth = 1;
        ctx.font = '12px sans-serif';
        ctx.setLineDash([4, 3]);
        marks.forEach(m => {
            const x = u.valToPos(m.at - 0.5, 'x', true);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            if (typeof m.cost === 'number') {
                ctx.fillText('enter: ' + tick(m.cost) + ' ms', x + 4, u.bbox.top + 14);
            }
        });
        ctx.restore();
    }

    // Shades the fallback nodes' columns and draws a line at each backend's first divergent node.
    function markNodes(u, marks) {
        const ctx = u.ctx;
        const top = u.bbox.top;
        const height = u.bbox.height;
        const step = Math.abs(u.valToPos(1, 'x', true) - u.valToPos(0, 'x', true)) || 4;
        ctx.save();
        marks.forEach(m => {
            ctx.fillStyle = 'rgba(120,120,120,0.18)';
            m.fallback.forEach(at => {
                const x = u.valToPos(at, 'x', true);
                ctx.fillRect(x - step / 2, top, Math.max(step, 2), height);
            });
            if (m.first >= 0) {
                const x = u.valToPos(m.first, 'x', true);
                ctx.strokeStyle = m.colour;
                ctx.lineWidth = 2;
                ctx.setLineDash([4, 3]);
                ctx.beginPath();
                ctx.moveTo(x, top);
                ctx.lineTo(x, top + height);
                ctx.stroke();
                ctx.setLineDash([]);
                ctx.fillStyle = m.colour;
                ctx.font = '12px sans-serif';
                ctx.fillText('first divergent', x + 4, top + 14);
            }
        });
        ctx.restore();
    }

    document.querySelectorAll('.chart[data-chart]').forEach(el => {
        const drawing = charts[el.dataset.chart];
        try {
            if (!drawing) {
                throw new Error('no drawing called ' + el.dataset.chart);
            }
            drawing(el, JSON.parse(el.dataset.items));
            el.dataset.drawn = 'true';
        } catch (e) {
            // Said on the page and in the console (which the browser tests watch); the other charts go on.
            el.textContent = 'This chart could not be drawn: ' + e.message;
            el.className += ' chart-error';
            console.error('kiln report: chart ' + el.dataset.chart + ': ' + e.stack);
        }
    });
})();
