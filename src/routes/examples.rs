//! Example bodies for the OpenAPI document, taken from the demo content (`beacon seed --demo`)
//! so Swagger UI shows what the front-end really receives.

use serde_json::{Value, json};

/// One article, whole (bodies shortened).
pub fn article() -> Value {
    json!({
        "id": "01a22811-7310-7146-8f0f-9f0e351fe2d4",
        "slug": "esketamine-nasal-spray-and-iv-ketamine-how-they-differ",
        "url": "https://clinic.example/blog/esketamine-nasal-spray-and-iv-ketamine-how-they-differ",
        "title": "Esketamine nasal spray and IV ketamine: how they differ",
        "subtitle": "Two forms of one medicine, and how to choose between them",
        "excerpt": "Ketamine is available in two forms for depression: esketamine, a nasal spray, and racemic ketamine, given as an intravenous (IV) infusion. They are closely related, but they differ in how they are approved, given and paid for.",
        "body_markdown": "Ketamine is available in two forms for depression: esketamine, a nasal spray, and racemic ketamine, given as an intravenous (IV) infusion.\n\n## Esketamine nasal spray\n\n…\n\n## IV ketamine\n\n…\n\n## How to choose\n\n…",
        "body_html": "<p>Ketamine is available in two forms for depression: esketamine, a nasal spray, and racemic ketamine, given as an intravenous (IV) infusion.</p>\n<h2 id=\"esketamine-nasal-spray\">Esketamine nasal spray</h2>\n<p>…</p>\n<h2 id=\"iv-ketamine\">IV ketamine</h2>\n<p>…</p>\n<h2 id=\"how-to-choose\">How to choose</h2>\n<p>…</p>",
        "outline": [
            {
                "level": 2,
                "text": "Esketamine nasal spray",
                "anchor": "esketamine-nasal-spray"
            },
            {
                "level": 2,
                "text": "IV ketamine",
                "anchor": "iv-ketamine"
            },
            {
                "level": 2,
                "text": "How to choose",
                "anchor": "how-to-choose"
            }
        ],
        "word_count": 168,
        "reading_time_minutes": 1,
        "tags": [
            {
                "slug": "ketamine-therapy",
                "name": "Ketamine therapy",
                "description": null
            },
            {
                "slug": "depression",
                "name": "Depression",
                "description": null
            },
            {
                "slug": "research",
                "name": "Research",
                "description": null
            }
        ],
        "author": {
            "name": "Dr. Maya Patel",
            "slug": "dr-maya-patel",
            "credentials": "MD, psychiatrist",
            "bio": "Dr. Patel is the clinic's medical director. She has treated mood and trauma disorders for fifteen years and leads its ketamine programme."
        },
        "reviewed_by": "Dr. Sam Okafor, MD, board-certified psychiatrist",
        "last_reviewed_at": "2026-11-27T16:00:00Z",
        "cover_image": {
            "url": "https://picsum.photos/seed/esketamine/1600/900",
            "alt": "A clinician talking with a patient across a desk",
            "width": 1600,
            "height": 900
        },
        "meta_title": null,
        "meta_description": null,
        "canonical_url": null,
        "og_image": null,
        "seo": {
            "title": "Esketamine nasal spray and IV ketamine: how they differ",
            "description": "Ketamine is available in two forms for depression: esketamine, a nasal spray, and racemic ketamine, given as an intravenous (IV) infusion. They are closely…",
            "canonical_url": "https://clinic.example/blog/esketamine-nasal-spray-and-iv-ketamine-how-they-differ",
            "og_image": "https://picsum.photos/seed/esketamine/1600/900"
        },
        "share": {
            "url": "https://clinic.example/blog/esketamine-nasal-spray-and-iv-ketamine-how-they-differ",
            "text": "Esketamine nasal spray and IV ketamine: how they differ",
            "pinterest_image": "https://picsum.photos/seed/esketamine/1600/900",
            "pinterest_description": "Ketamine is available in two forms for depression: esketamine, a nasal spray, and racemic ketamine, given as an intravenous (IV) infusion. They are closely…",
            "links": {
                "facebook": "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fclinic.example%2Fblog%2Fesketamine-nasal-spray-and-iv-ketamine-how-they-differ",
                "x": "https://x.com/intent/post?url=https%3A%2F%2Fclinic.example%2Fblog%2Fesketamine-nasal-spray-and-iv-ketamine-how-they-differ&text=Esketamine%20nasal%20spray%20and%20IV%20ketamine%3A%20how%20they%20differ",
                "linkedin": "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fclinic.example%2Fblog%2Fesketamine-nasal-spray-and-iv-ketamine-how-they-differ",
                "pinterest": "https://pinterest.com/pin/create/button/?url=https%3A%2F%2Fclinic.example%2Fblog%2Fesketamine-nasal-spray-and-iv-ketamine-how-they-differ&media=https%3A%2F%2Fpicsum.photos%2Fseed%2Fesketamine%2F1600%2F900&description=Ketamine%20is%20available%20in%20two%20forms%20for%20depression%3A%20esketamine%2C%20a%20nasal%20spray%2C%20and%20racemic%20ketamine%2C%20given%20as%20an%20intravenous%20%28IV%29%20infusion.%20They%20are%20closely%E2%80%A6",
                "email": "mailto:?subject=Esketamine%20nasal%20spray%20and%20IV%20ketamine%3A%20how%20they%20differ&body=Ketamine%20is%20available%20in%20two%20forms%20for%20depression%3A%20esketamine%2C%20a%20nasal%20spray%2C%20and%20racemic%20ketamine%2C%20given%20as%20an%20intravenous%20%28IV%29%20infusion.%20They%20are%20closely%E2%80%A6%0A%0Ahttps%3A%2F%2Fclinic.example%2Fblog%2Fesketamine-nasal-spray-and-iv-ketamine-how-they-differ"
            }
        },
        "status": "published",
        "published_at": "2026-11-26T16:00:00Z",
        "featured": false,
        "created_at": "2026-11-29T16:00:00Z",
        "updated_at": "2026-11-29T16:00:00Z",
        "version": 1
    })
}

/// A page of article summaries, as the blog index gets it.
pub fn article_list() -> Value {
    json!({
            "items": [{
        "id": "01a22811-7305-72b9-99c3-ff8537b2c9d7",
        "slug": "your-first-ketamine-infusion-what-to-expect",
        "url": "https://clinic.example/blog/your-first-ketamine-infusion-what-to-expect",
        "title": "Your first ketamine infusion: what to expect",
        "subtitle": null,
        "excerpt": "Knowing what will happen makes a first appointment much easier. Here is how a typical infusion day at our clinic goes.",
        "tags": [
            {
                "slug": "ketamine-therapy",
                "name": "Ketamine therapy",
                "description": null
            },
            {
                "slug": "patient-guide",
                "name": "Patient guide",
                "description": null
            }
        ],
        "author": {
            "name": "Jordan Lee",
            "slug": "jordan-lee",
            "credentials": "LCSW, trauma-focused therapist",
            "bio": null
        },
        "cover_image": {
            "url": "https://picsum.photos/seed/first-infusion/1600/900",
            "alt": "A calm treatment room with a reclining chair and soft lighting",
            "width": 1600,
            "height": 900
        },
        "word_count": 207,
        "reading_time_minutes": 1,
        "status": "published",
        "published_at": "2026-11-22T16:00:00Z",
        "featured": false,
        "updated_at": "2026-11-29T16:00:00Z"
    }],
            "next_cursor": "cDE6MTc5NTcwOTM2MTgzNjIzNTowMWEyMjgxMTczMTA3MTQ2OGYwZjlmMGUzNTFmZTJkNA"
        })
}

/// A search for `ketamine`: each hit carries its highlighted snippet.
pub fn search_results() -> Value {
    json!({"items": [search_hit()], "next_cursor": null})
}

fn search_hit() -> Value {
    json!({
        "id": "01a22811-7310-7146-8f0f-9f0e351fe2d4",
        "slug": "esketamine-nasal-spray-and-iv-ketamine-how-they-differ",
        "url": "https://clinic.example/blog/esketamine-nasal-spray-and-iv-ketamine-how-they-differ",
        "title": "Esketamine nasal spray and IV ketamine: how they differ",
        "subtitle": "Two forms of one medicine, and how to choose between them",
        "excerpt": "Ketamine is available in two forms for depression: esketamine, a nasal spray, and racemic ketamine, given as an intravenous (IV) infusion. They are closely related, but they differ in how they are approved, given and paid for.",
        "tags": [
            {
                "slug": "ketamine-therapy",
                "name": "Ketamine therapy",
                "description": null
            },
            {
                "slug": "depression",
                "name": "Depression",
                "description": null
            },
            {
                "slug": "research",
                "name": "Research",
                "description": null
            }
        ],
        "author": {
            "name": "Dr. Maya Patel",
            "slug": "dr-maya-patel",
            "credentials": "MD, psychiatrist",
            "bio": null
        },
        "cover_image": {
            "url": "https://picsum.photos/seed/esketamine/1600/900",
            "alt": "A clinician talking with a patient across a desk",
            "width": 1600,
            "height": 900
        },
        "word_count": 168,
        "reading_time_minutes": 1,
        "status": "published",
        "published_at": "2026-11-26T16:00:00Z",
        "featured": false,
        "updated_at": "2026-11-29T16:00:00Z",
        "snippet": "<mark>Ketamine</mark> is available in two forms for depression: esketamine, a nasal spray, and racemic <mark>ketamine</mark>, given as an intravenous (IV) infusion. They are closely related, but they differ … supervision, and patients are observed for at least two hours after each dose. IV <mark>ketamine</mark> IV <mark>ketamine</mark> has been studied for depression for more than twenty years but is used"
    })
}

/// Related articles for an article page.
pub fn related_list() -> Value {
    json!({"items": [{
        "id": "01a22811-7305-72b9-99c3-ff8537b2c9d7",
        "slug": "your-first-ketamine-infusion-what-to-expect",
        "url": "https://clinic.example/blog/your-first-ketamine-infusion-what-to-expect",
        "title": "Your first ketamine infusion: what to expect",
        "subtitle": null,
        "excerpt": "Knowing what will happen makes a first appointment much easier. Here is how a typical infusion day at our clinic goes.",
        "tags": [
            {
                "slug": "ketamine-therapy",
                "name": "Ketamine therapy",
                "description": null
            },
            {
                "slug": "patient-guide",
                "name": "Patient guide",
                "description": null
            }
        ],
        "author": {
            "name": "Jordan Lee",
            "slug": "jordan-lee",
            "credentials": "LCSW, trauma-focused therapist",
            "bio": null
        },
        "cover_image": {
            "url": "https://picsum.photos/seed/first-infusion/1600/900",
            "alt": "A calm treatment room with a reclining chair and soft lighting",
            "width": 1600,
            "height": 900
        },
        "word_count": 207,
        "reading_time_minutes": 1,
        "status": "published",
        "published_at": "2026-11-22T16:00:00Z",
        "featured": false,
        "updated_at": "2026-11-29T16:00:00Z"
    }]})
}

pub fn tag() -> Value {
    json!({
        "slug": "ptsd",
        "name": "PTSD",
        "description": null,
        "article_count": 1
    })
}

pub fn tag_list() -> Value {
    json!({
        "items": [
            {
                "slug": "depression",
                "name": "Depression",
                "description": null,
                "article_count": 2
            },
            {
                "slug": "ketamine-therapy",
                "name": "Ketamine therapy",
                "description": null,
                "article_count": 3
            },
            {
                "slug": "patient-guide",
                "name": "Patient guide",
                "description": null,
                "article_count": 1
            }
        ],
        "next_cursor": null
    })
}

pub fn preview_token() -> Value {
    let token = "AZOk8XwetyUpoD8tXGt6gQAAAABpKxSAvbq6Eb0M0Cw5dP1h9bqS2iC1xM3kQwqLZ6v3nL0JHtY";
    json!({
        "token": token,
        "expires_at": "2026-11-30T12:00:00Z",
        "url": format!("https://clinic.example/blog/ketamine-and-ptsd?preview_token={token}"),
        "api_url": format!("/v1/articles/ketamine-and-ptsd?preview_token={token}")
    })
}
