#!/usr/bin/env python3
"""Posts the template articles of `scripts/bench-big.sh` through Beacon's own write path, so
their derived columns (HTML, plain text, outline, excerpt, word count, author slug) are exactly
what Beacon makes; bench-big.sh then copies them in SQL. Usage: BASE KEY COUNT.

Bodies are about 6 KB of markdown, each drawn from a seeded pool of sentences, so templates
differ from each other like real articles do. The word "microdosing" is never used here: the
rare search of bench-big.sh finds it only in the titles it puts it in.
"""
import json
import random
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

TOPICS = {
    "ptsd": "PTSD",
    "depression": "treatment-resistant depression",
    "anxiety": "anxiety",
    "chronic-pain": "chronic pain",
    "ocd": "OCD",
    "bipolar-depression": "bipolar depression",
}
AUTHORS = [
    ("Dr. Sam Okafor", "MD, psychiatrist"),
    ("Dr. Lena Fischer", "MD, anesthesiologist"),
    ("Maria Alvarez", "PMHNP-BC"),
    ("Dr. Priya Raman", "PhD, clinical psychologist"),
    ("Jordan Lee", "LCSW, integration therapist"),
    ("Dr. Tomás Herrera", "MD, pain medicine"),
    ("Aisha Bello", "RN, infusion nurse"),
    ("Dr. Henrik Olsen", "MD, PhD"),
]
OPENERS = [
    "Ketamine-assisted therapy for {t} has been studied in clinics and randomised trials for two decades.",
    "Many of the patients we see for {t} have tried two or more medications before they call us.",
    "Infusions are given in a quiet room, with a nurse present and your vital signs monitored throughout.",
    "Relief within days is what sets ketamine apart from antidepressants that take weeks to work.",
    "Researchers think ketamine acts on glutamate, which helps the brain form new connections.",
    "An integration session after each infusion helps you turn insights into lasting change.",
    "Insurance rarely covers infusions for {t}, so we publish our prices and payment plans.",
    "Side effects such as dissociation, nausea and a rise in blood pressure usually pass within an hour.",
    "We screen every patient for heart conditions, uncontrolled blood pressure and psychosis first.",
    "Most protocols start with six infusions over two to three weeks, followed by boosters as needed.",
    "Talk therapy remains part of the plan: ketamine opens a window that therapy can use.",
    "Family members often notice the change before the patient does: more energy, more patience.",
    "The evidence for {t} is strongest when ketamine is combined with psychotherapy and follow-up.",
    "Esketamine nasal spray is approved for some patients; intravenous ketamine is used off-label.",
    "Sleep, appetite and concentration are the first things patients with {t} tell us improve.",
    "Not everyone responds; about a third of patients need a different approach, and we say so early.",
    "A referral from your psychiatrist or primary care doctor helps us coordinate your care.",
    "Driving is not allowed on infusion days, so plan for someone to take you home afterwards.",
    "Veterans and first responders with {t} make up a large share of the people we treat.",
    "Measurement matters: we track symptom scores before every infusion and share them with you.",
]
HEADINGS = [
    "What the research says", "How an infusion works", "Who is a good candidate", "Risks and side effects",
    "What it costs", "Preparing for your first visit", "After the infusion", "Integration and therapy",
    "Questions patients ask", "How we measure progress", "When ketamine is not the answer", "Next steps",
]


def paragraph(rng, topic):
    return " ".join(rng.choice(OPENERS).format(t=topic) for _ in range(rng.randint(4, 6)))


def body(rng, topic):
    parts = [paragraph(rng, topic)]
    for i, heading in enumerate(rng.sample(HEADINGS, 6), start=1):
        parts.append(f"## {heading}")
        parts.append(paragraph(rng, topic))
        if i % 2:
            parts.append("\n".join(f"{n}. **{rng.choice(['Relief', 'Safety', 'Follow-up', 'Cost'])}.** "
                                   f"{rng.choice(OPENERS).format(t=topic)}" for n in range(1, 4)))
        else:
            parts.append(f"> {rng.choice(OPENERS).format(t=topic)}")
            parts.append(paragraph(rng, topic) + " Read more in [our guide](https://example.org/guide).")
    parts.append("## Talk to us\n\nCall or write to us to find out whether ketamine is right for you.")
    return "\n\n".join(parts)


def create(k):
    rng = random.Random(k)
    slug = list(TOPICS)[k % len(TOPICS)]
    topic = TOPICS[slug]
    author, credentials = AUTHORS[k % len(AUTHORS)]
    article = {
        "title": f"Ketamine and {topic}: template {k}", "slug": f"tpl-{slug}-{k}",
        "subtitle": rng.choice([None, f"A guide for patients with {topic} and their families"]),
        "body_markdown": body(rng, topic),
        "author": {"name": author, "credentials": credentials},
        "status": "draft",
    }
    request = urllib.request.Request(
        f"{base}/v1/articles", data=json.dumps(article).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    urllib.request.urlopen(request).read()


with ThreadPoolExecutor(4) as pool:
    list(pool.map(create, range(count)))
