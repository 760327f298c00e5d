// Cairn's page scripts: charts (ECharts) from JSON the server renders into the page, row folding, select-all.
// Pages are server-rendered; Blazor's enhanced navigation swaps their content, so everything is (re)bound on each load.
(function () {
    const dark = () => window.matchMedia('(prefers-color-scheme: dark)').matches;

    function renderCharts() {
        document.querySelectorAll('[data-chart]').forEach(el => {
            const source = document.getElementById(el.dataset.chart);
            if (!source) return;
            const text = source.textContent;
            if (el._cairnSource === text && el._cairnChart) return;
            el._cairnSource = text;
            if (el._cairnChart) el._cairnChart.dispose();
            const option = JSON.parse(text);
            option.backgroundColor = 'transparent';
            const chart = echarts.init(el, dark() ? 'dark' : null, { renderer: 'canvas' });
            chart.setOption(option);
            el._cairnChart = chart;
            if (el.dataset.zoom) bindZoom(el, chart, option);
            // A node or point that names a page (lineage nodes) opens it when clicked.
            chart.on('click', p => {
                const href = p.data && p.data.href;
                if (href) window.Blazor?.navigateTo ? Blazor.navigateTo(href) : location.assign(href);
            });
        });
    }

    // Zooming a downsampled metric asks the server for the visible step range at full resolution (up to the bucket limit).
    function bindZoom(el, chart, option) {
        let pending;
        chart.on('datazoom', () => {
            clearTimeout(pending);
            pending = setTimeout(async () => {
                const zoom = chart.getOption().dataZoom[0];
                const from = Math.floor(zoom.startValue ?? 0), to = Math.ceil(zoom.endValue ?? 0);
                const url = `${el.dataset.zoom}?max_points=1000&from_step=${from}&to_step=${to}`;
                const response = await fetch(url, { headers: { accept: 'application/json' } });
                if (!response.ok) return;
                const buckets = await response.json();
                chart.setOption({ series: window.cairnMetricSeries(buckets) }, { replaceMerge: ['series'] });
            }, 250);
        });
    }

    window.cairnMetricSeries = function (buckets) {
        const last = buckets.map(b => [b.last_step ?? b.lastStep, b.last]);
        const band = buckets.filter(b => b.count > 1);
        const series = [{ type: 'line', name: 'value', data: last, showSymbol: buckets.length < 60, sampling: 'lttb' }];
        if (band.length) {
            series.push({ type: 'line', name: 'min', data: band.map(b => [b.last_step ?? b.lastStep, b.min]), lineStyle: { opacity: 0 }, stack: 'band', showSymbol: false });
            series.push({ type: 'line', name: 'range', data: band.map(b => [b.last_step ?? b.lastStep, b.max - b.min]), lineStyle: { opacity: 0 },
                areaStyle: { opacity: 0.2 }, stack: 'band', showSymbol: false });
        }
        return series;
    };

    function bind() {
        renderCharts();
        document.querySelectorAll('[data-fold]').forEach(button => {
            if (button._cairnBound) return;
            button._cairnBound = true;
            button.addEventListener('click', () => {
                const open = button.getAttribute('aria-expanded') !== 'true';
                button.setAttribute('aria-expanded', open);
                document.querySelectorAll(`tr[data-parent="${button.dataset.fold}"]`).forEach(r => r.classList.toggle('open', open));
            });
        });
        document.querySelectorAll('input[data-select-all]').forEach(box => {
            if (box._cairnBound) return;
            box._cairnBound = true;
            box.addEventListener('change', () => document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`).forEach(b => b.checked = box.checked));
        });
    }

    window.addEventListener('resize', () => document.querySelectorAll('[data-chart]').forEach(el => el._cairnChart?.resize()));
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
        document.querySelectorAll('[data-chart]').forEach(el => { el._cairnSource = null; });
        renderCharts();
    });
    document.addEventListener('DOMContentLoaded', bind);
    if (document.readyState !== 'loading') bind();
    if (window.Blazor) Blazor.addEventListener('enhancedload', bind);
    else document.addEventListener('DOMContentLoaded', () => window.Blazor?.addEventListener('enhancedload', bind));
})();

// Buttons that act on the selected runs without a form post: compare, and the column picker (both change the URL only).
document.addEventListener('click', event => {
    const compare = event.target.closest('[data-compare]');
    if (compare) {
        const ids = [...document.querySelectorAll(`input[name="${compare.dataset.compare}"]:checked`)].map(b => b.value);
        if (ids.length) location.href = `compare?runs=${ids.join(',')}`;
        return;
    }

    const columns = event.target.closest('[data-apply-columns]');
    if (columns) {
        const chosen = [...document.querySelectorAll('input[data-column]:checked')].map(b => b.dataset.column);
        const url = new URL(location.href);
        url.searchParams.set(columns.dataset.applyColumns, chosen.join(','));
        location.href = url.toString();
    }
});
