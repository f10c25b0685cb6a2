"""The Scrapy side of the crawl benchmark (benches/crawl/run.sh).

The same job as `xuncha crawl --once --out` on the fixture job board: obey robots.txt,
follow the list pages' posting links and next-page links, extract the same fields with
the same selectors as config/sites/jobboard.toml, whitespace normalised, one JSON line
per posting. No politeness delay; concurrency from the command line.

    scrapy runspider scrapy_spider.py -a start=URL -s CONCURRENT_REQUESTS=16 \
        -s CONCURRENT_REQUESTS_PER_DOMAIN=16 -O out.jsonl:jsonlines
"""

import re
from urllib.parse import urlparse

import scrapy

WS = re.compile(r"\s+")


def text(sel, css):
    """Whitespace-normalised text of the first element `css` selects, or None."""
    first = sel.css(css)
    if not first:
        return None
    value = WS.sub(" ", " ".join(first[0].css("::text").getall())).strip()
    return value or None


def text_all(sel, css):
    value = WS.sub(" ", " ".join(sel.css(css + " ::text").getall())).strip()
    return value or None


class JobBoardSpider(scrapy.Spider):
    name = "jobboard"
    custom_settings = {
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": 0,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 30,
        "DOWNLOAD_MAXSIZE": 5 * 1024 * 1024,
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_TIMES": 3,
        "LOG_LEVEL": "INFO",
    }

    def __init__(self, start, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start]
        self.allowed_domains = [urlparse(start).hostname]

    def parse(self, response):
        for href in response.css("ul.job-list li.job-card a.job-name::attr(href)").getall():
            yield response.follow(href, self.parse_job)
        next_page = response.css("div.pager a.next::attr(href)").get()
        if next_page:
            yield response.follow(next_page, self.parse)

    def parse_job(self, response):
        detail = response.css("div.job-detail[data-job-id]")
        native = detail.attrib.get("data-job-id") if detail else None
        yield {
            "id": f"jobboard-{native}",
            "source": "jobboard",
            "url": response.url,
            "title": text(response, "div.job-detail h1.job-title"),
            "company": text(response, "div.company-info .company-name"),
            "salary": text(response, "div.job-detail .salary"),
            "location": text(response, "div.job-detail .job-address"),
            "description": text_all(response, "div.job-detail .job-sec-text"),
            "publisher": {
                "name": text(response, "div.job-boss .boss-name"),
                "licence_no": text(response, "div.job-boss .licence-no"),
            },
            "contact": text(response, "div.job-detail .contact"),
        }
