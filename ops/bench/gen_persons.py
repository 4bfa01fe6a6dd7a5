#!/usr/bin/env python3
"""gen_persons.py ROWS OUT.csv — a persons register file for the bench, streamed, deterministic.

Written apart from the C# code on purpose: its ID check characters come from the formula in
DOMAIN.md (GB 11643-1999), so the import's validator is exercised by a second implementation.
"""
import datetime
import random
import sys

rows, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20260101)
weights = [pow(2, 18 - i, 11) for i in range(1, 18)]
streets = ["城关街道", "北街街道", "南街街道", "红山街道", "东城街道", "热水汤街道", "凌北街道", "宋杖子镇", "三十家子镇", "万元店镇"]
communities = ["和平社区", "建设社区", "光明社区", "胜利社区", "东村", "西村", "前进村", "红旗村"]
surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董"
given = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "建国", "秀兰", "桂英", "志强"]
employments = ["employed", "employed", "employed", "self_employed", "flexible_insured", "flexible_uninsured",
               "unemployed", "registered_unemployed", "student", "retired", "retired", "other"]
start = datetime.date(1940, 1, 1)
seen = set()
with open(out, "w", encoding="utf-8", newline="") as f:
    f.write("id_number,name,household_no,street,community,hukou,able_to_work,wants_work,employment,employment_since,business_income\r\n")
    n = 0
    while n < rows:
        born = start + datetime.timedelta(days=rng.randrange(0, 30000))
        first17 = f"211382{born:%Y%m%d}{rng.randrange(1000):03d}"
        if first17 in seen:
            continue
        seen.add(first17)
        check = "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]
        emp = rng.choice(employments)
        working = emp in ("employed", "self_employed", "flexible_insured", "flexible_uninsured")
        since = (datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(0, 9000))).isoformat() if working else ""
        f.write(f"{first17}{check},{rng.choice(surnames)}{rng.choice(given)},{n // 3:08d},{rng.choice(streets)},"
                f"{rng.choice(communities)},{'urban' if rng.random() < 0.4 else 'rural'},true,{'true' if working else 'false'},"
                f"{emp},{since},false\r\n")
        n += 1
