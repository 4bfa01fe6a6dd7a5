// Lingyuan.Jobs: Hangfire's own pages in the bureau's words and time (issue #18). Appended to Hangfire's
// script bundle (UseDashboardJavaScript), so it runs after hangfire.js and before the page starts.
(function () {
    // Hangfire passes <html lang="zh"> to moment, which has no "zh" locale and falls back to English.
    if (window.moment) moment.locale('zh-cn');
    if (window.Hangfire && Hangfire.config) Hangfire.config.locale = 'zh-cn';

    // One name per thing: Hangfire's translation calls recurring jobs both 周期性作业 and 定期作业.
    var names = [['周期性作业', '定时任务'], ['定期作业', '定时任务']];
    // Texts Hangfire's translation leaves in English (state names in a job's history, its reasons, labels).
    var exact = {
        'N/A': '无', 'n/a': '无',
        'Created': '已创建', 'Enqueued': '已入队', 'Processing': '执行中', 'Succeeded': '成功', 'Failed': '失败',
        'Scheduled': '计划中', 'Deleted': '已删除', 'Awaiting': '等待中', 'Parameters': '参数', 'Queues': '队列',
        'Latency:': '等待:', 'Duration:': '耗时:', 'Result:': '结果:', 'Server:': '服务器:', 'Worker:': '工作线程:',
        'Latency': '等待', 'Duration': '耗时', 'Result': '结果', 'Server': '服务器', 'Worker': '工作线程',
        'Triggered using recurring job manager': '由管理员手动触发',
        'Triggered by recurring job scheduler': '按计划时间触发',
        'Triggered by DelayedJobScheduler': '到达计划时间后触发',
        'Enqueued as a continuation': '前序作业完成后入队'
    };

    // Beijing time has no daylight saving: UTC+8 all year, whatever the browser's zone.
    function beijing(seconds) {
        return moment.unix(seconds).utcOffset(480).format('YYYY-MM-DD HH:mm') + ' (北京时间)';
    }

    function render() {
        $('*[data-moment-local]').each(function () {
            var ts = $(this).data('moment-local');
            if (ts) $(this).text(beijing(ts));
        });
        $('*[data-moment]').each(function () {
            var ts = $(this).data('moment');
            if (ts) $(this).attr('title', beijing(ts)).attr('data-original-title', beijing(ts));
        });
        $('*[data-moment-title]').each(function () {
            var ts = $(this).data('moment-title');
            if (ts) $(this).attr('title', beijing(ts)).attr('data-original-title', beijing(ts));
        });
    }

    function rename(root) {
        var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        var node;
        while ((node = walker.nextNode())) {
            var text = node.nodeValue;
            var trimmed = text.trim();
            if (exact.hasOwnProperty(trimmed)) { node.nodeValue = text.replace(trimmed, exact[trimmed]); continue; }
            text = text.replace(/Retry attempt (\d+) of (\d+):/, '第 $1 次重试(共 $2 次):');
            for (var i = 0; i < names.length; i++)
                if (text.indexOf(names[i][0]) >= 0) text = text.split(names[i][0]).join(names[i][1]);
            if (text !== node.nodeValue) node.nodeValue = text;
        }
    }

    // The menu carries the project's pages too: at common widths it wraps to two rows, and Hangfire's fixed
    // header would cover the top of the page. Keep the content below the header, whatever its height.
    function clearHeader() {
        var bar = document.querySelector('.navbar-fixed-top');
        var content = document.querySelector('#wrap > .container');
        if (bar && content) content.style.paddingTop = (bar.offsetHeight + 10) + 'px';
    }

    $(function () {
        rename(document.body);
        clearHeader();
        $(window).on('resize', clearHeader);
        document.title = names.reduce(function (t, n) { return t.split(n[0]).join(n[1]); }, document.title);
        // The failed list's advice is C# (AutomaticRetry(...)); say instead what happens here.
        $('.alert').each(function () {
            if ($(this).text().indexOf('AutomaticRetry') >= 0)
                $(this).text('失败的作业不会自动过期。同一任务此后成功运行时,它的失败记录会移出本列表(“运行记录”页仍保留);需要人工处理的问题同时以告警邮件通知。');
        });
        render();
        setInterval(function () { render(); rename(document.body); }, 30 * 1000);
        // Lists refresh parts of the page by polling: translate what they bring in.
        if (window.MutationObserver) {
            new MutationObserver(function (changes) {
                changes.forEach(function (c) { c.addedNodes.forEach(function (n) { if (n.nodeType === 1) rename(n); }); });
            }).observe(document.body, { childList: true, subtree: true });
        }
    });
})();
