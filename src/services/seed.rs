//! `beacon seed --demo`: a handful of realistic articles, so a front-end developer sees content
//! right after the first run. Idempotent: an article whose slug exists (now or formerly) is
//! left alone.

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;

use crate::db::articles as queries;
use crate::domain::article::{
    AuthorInput, Content, ContentInput, CoverImageInput, InitialStatus, Lifecycle,
};
use crate::error::Error;
use crate::services::articles;

/// What seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub created: usize,
    pub already_present: usize,
}

/// When a demo article goes live, relative to the moment of seeding.
#[derive(Debug, Clone, Copy)]
enum When {
    DaysAgo(i64),
    InDays(i64),
    Draft,
}

struct Demo {
    slug: &'static str,
    title: &'static str,
    subtitle: Option<&'static str>,
    body: &'static str,
    tags: &'static [&'static str],
    author: Author,
    image_seed: &'static str,
    image_alt: &'static str,
    featured: bool,
    when: When,
}

#[derive(Clone, Copy)]
enum Author {
    Psychiatrist,
    Therapist,
}

const REVIEWER: &str = "Dr. Sam Okafor, MD, board-certified psychiatrist";

fn author(author: Author) -> AuthorInput {
    match author {
        Author::Psychiatrist => AuthorInput {
            name: "Dr. Maya Patel".to_owned(),
            credentials: Some("MD, psychiatrist".to_owned()),
            bio: Some(
                "Dr. Patel is the clinic's medical director. She has treated mood and trauma \
                 disorders for fifteen years and leads its ketamine programme."
                    .to_owned(),
            ),
        },
        Author::Therapist => AuthorInput {
            name: "Jordan Lee".to_owned(),
            credentials: Some("LCSW, trauma-focused therapist".to_owned()),
            bio: Some(
                "Jordan Lee guides the clinic's integration sessions and works with families \
                 affected by trauma."
                    .to_owned(),
            ),
        },
    }
}

/// Loads the demo articles that are not there yet.
pub fn demo(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Seeded, Error> {
    let mut seeded = Seeded {
        created: 0,
        already_present: 0,
    };
    for demo in DEMOS {
        let present = queries::find_by_slug(conn, demo.slug)?.is_some()
            || queries::find_by_old_slug(conn, demo.slug)?.is_some();
        if present {
            seeded.already_present += 1;
            continue;
        }
        let (content, lifecycle) = parse(demo, now)?;
        articles::create(conn, content, lifecycle, now)?;
        seeded.created += 1;
    }
    tracing::info!(
        created = seeded.created,
        already_present = seeded.already_present,
        "demo articles seeded"
    );
    Ok(seeded)
}

fn parse(demo: &Demo, now: DateTime<Utc>) -> Result<(Content, Lifecycle), Error> {
    let input = ContentInput {
        title: demo.title.to_owned(),
        subtitle: demo.subtitle.map(str::to_owned),
        slug: Some(demo.slug.to_owned()),
        body_markdown: demo.body.to_owned(),
        tags: demo.tags.iter().map(|tag| (*tag).to_owned()).collect(),
        author: author(demo.author),
        reviewed_by: Some(REVIEWER.to_owned()),
        last_reviewed_at: Some(now - Duration::days(2)),
        cover_image: Some(CoverImageInput {
            url: format!("https://picsum.photos/seed/{}/1600/900", demo.image_seed),
            alt: demo.image_alt.to_owned(),
            width: Some(1600),
            height: Some(900),
        }),
        featured: demo.featured,
        ..ContentInput::default()
    };
    let content = Content::parse(input, now).map_err(|errors| {
        Error::internal(format!("demo article {} is invalid: {errors:?}", demo.slug))
    })?;
    let (status, at) = match demo.when {
        When::DaysAgo(days) => (InitialStatus::Published, Some(now - Duration::days(days))),
        When::InDays(days) => (InitialStatus::Scheduled, Some(now + Duration::days(days))),
        When::Draft => (InitialStatus::Draft, None),
    };
    let lifecycle = Lifecycle::initial(status, at, now).map_err(|errors| {
        Error::internal(format!(
            "demo article {} has a bad date: {errors:?}",
            demo.slug
        ))
    })?;
    Ok((content, lifecycle))
}

const DEMOS: &[Demo] = &[
    Demo {
        slug: "ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors",
        title: "Ketamine and PTSD: a ray of hope for trauma survivors",
        subtitle: Some("What the research says, and what treatment looks like at our clinic"),
        body: KETAMINE_AND_PTSD,
        tags: &["PTSD", "Ketamine therapy", "Trauma"],
        author: Author::Psychiatrist,
        image_seed: "ketamine-ptsd",
        image_alt: "Morning sunlight falling through trees onto a quiet forest path",
        featured: true,
        when: When::DaysAgo(21),
    },
    Demo {
        slug: "what-is-treatment-resistant-depression",
        title: "What is treatment-resistant depression?",
        subtitle: Some("When two or more antidepressants have not helped"),
        body: TREATMENT_RESISTANT_DEPRESSION,
        tags: &["Depression", "Treatment-resistant depression"],
        author: Author::Psychiatrist,
        image_seed: "trd",
        image_alt: "A person sitting by a rain-streaked window with a cup of tea",
        featured: false,
        when: When::DaysAgo(14),
    },
    Demo {
        slug: "your-first-ketamine-infusion-what-to-expect",
        title: "Your first ketamine infusion: what to expect",
        subtitle: None,
        body: FIRST_INFUSION,
        tags: &["Ketamine therapy", "Patient guide"],
        author: Author::Therapist,
        image_seed: "first-infusion",
        image_alt: "A calm treatment room with a reclining chair and soft lighting",
        featured: false,
        when: When::DaysAgo(7),
    },
    Demo {
        slug: "esketamine-nasal-spray-and-iv-ketamine-how-they-differ",
        title: "Esketamine nasal spray and IV ketamine: how they differ",
        subtitle: Some("Two forms of one medicine, and how to choose between them"),
        body: ESKETAMINE_VS_IV,
        tags: &["Ketamine therapy", "Depression", "Research"],
        author: Author::Psychiatrist,
        image_seed: "esketamine",
        image_alt: "A clinician talking with a patient across a desk",
        featured: false,
        when: When::DaysAgo(3),
    },
    Demo {
        slug: "integration-therapy-making-the-most-of-each-session",
        title: "Integration therapy: making the most of each session",
        subtitle: None,
        body: INTEGRATION,
        tags: &["Integration", "Mental health"],
        author: Author::Therapist,
        image_seed: "integration",
        image_alt: "An open notebook and a pen on a wooden table",
        featured: false,
        when: When::InDays(7),
    },
    Demo {
        slug: "supporting-a-loved-one-with-ptsd",
        title: "Supporting a loved one with PTSD",
        subtitle: Some("Draft: practical ways families can help"),
        body: SUPPORTING_A_LOVED_ONE,
        tags: &["PTSD", "Family"],
        author: Author::Therapist,
        image_seed: "family-support",
        image_alt: "Two people walking side by side along a beach",
        featured: false,
        when: When::Draft,
    },
];

const KETAMINE_AND_PTSD: &str = r#"For many people living with post-traumatic stress disorder (PTSD), the usual treatments bring only partial relief. Trauma-focused therapy and antidepressants help a great many patients, yet a substantial share keep living with nightmares, flashbacks and a constant sense of threat. Ketamine, a medicine used safely in anaesthesia for decades, is being studied as a way to help some of them.

This article explains what we know, what we do not know yet, and what treatment looks like if you and your psychiatrist decide it is worth trying.

## Why PTSD can be hard to treat

PTSD keeps the brain's alarm system switched on long after the danger has passed. Memories of the trauma stay vivid and intrusive, sleep suffers, and many people start avoiding places, people and feelings that remind them of what happened. Over time, depression, anxiety and substance use often join in.

Therapy works by helping the brain file the memory away as something that happened in the past. That takes time and a great deal of courage, and when symptoms are overwhelming it can be hard to get started.

## How ketamine may help

Ketamine acts on glutamate, the brain's most common chemical messenger, by blocking the NMDA receptor. Researchers think this sets off a short burst of activity that helps nerve cells form new connections. Early studies in people with chronic PTSD suggest three ways this could matter:

1. **Rapid relief of symptoms.** In small clinical trials, some participants reported fewer intrusive memories and less avoidance within a day of an infusion, rather than the weeks antidepressants usually take.
2. **A window for therapy.** The period of increased brain plasticity after treatment may make it easier to engage with trauma-focused therapy, which is why we pair infusions with integration sessions.
3. **Relief from depression alongside PTSD.** Many trauma survivors also live with depression, where the evidence for ketamine is stronger.

Ketamine is not approved by the FDA for PTSD, and larger studies are still needed. It is not a cure, and it is not the right choice for everyone.

## Is ketamine therapy safe?

Given in a medical setting, at the low doses used for mental health and with monitoring throughout, ketamine is generally well tolerated. Common, short-lived effects include:

- feeling detached or dreamlike during the infusion
- a rise in blood pressure
- nausea or dizziness

Ketamine is not suitable for people with certain heart conditions, uncontrolled high blood pressure, a history of psychosis, or active substance use problems. A full assessment comes first.

| | Typical course |
|---|---|
| Infusions | 6 over 2–3 weeks |
| Length of each visit | About 2 hours |
| Integration sessions | After each infusion |

## Conclusion

Ketamine offers real hope to trauma survivors who have tried other treatments without enough relief, but it works best as part of a complete plan that includes therapy and follow-up. The research is promising and still growing.

## Is ketamine therapy right for you?

If you are considering it, book a consultation with our team. Before your visit, check that you can say yes to these:

- [ ] I have a diagnosis of PTSD or depression from a clinician
- [ ] I have tried at least one other treatment
- [ ] I can arrange a ride home after each infusion
- [ ] I am ready to take part in integration sessions

*If you are in crisis or thinking about suicide, call or text 988 (in the US) or go to your nearest emergency department.*
"#;

const TREATMENT_RESISTANT_DEPRESSION: &str = r#"Depression is one of the most common health conditions in the world, and most people improve with therapy, medication or both. For some, though, the first and second antidepressants bring little change. Clinicians call this treatment-resistant depression (TRD).

## How TRD is defined

Most psychiatrists use TRD to describe depression that has not responded to at least two antidepressants, each taken at an adequate dose for long enough (usually six to eight weeks). Large studies suggest that roughly one in three people with depression do not reach remission after several treatment steps.

Before calling depression treatment-resistant, a good clinician will check:

1. **The diagnosis.** Bipolar disorder, thyroid problems and sleep disorders can all look like depression.
2. **The treatment itself.** Was the dose high enough, and was it taken for long enough?
3. **What else is going on.** Ongoing stress, substance use and other conditions can all hold recovery back.

## What can help

Having TRD does not mean nothing will work. Options include:

- switching or combining medications
- adding a structured psychotherapy such as CBT
- transcranial magnetic stimulation (TMS)
- esketamine nasal spray, approved by the FDA in 2019 for adults with TRD
- IV ketamine, used off-label by specialist clinics

## Conclusion

If two treatments have not helped you, you are not alone and you have not failed. Talk with your doctor about a review of your treatment and the next steps.
"#;

const FIRST_INFUSION: &str = r#"Knowing what will happen makes a first appointment much easier. Here is how a typical infusion day at our clinic goes.

## Before the day

You will have had a full assessment with one of our psychiatrists. Do not eat for four hours before your appointment (clear fluids are fine until two hours before), take your usual medicines unless we told you otherwise, and arrange for someone to drive you home.

## During the infusion

1. **Check-in.** A nurse takes your blood pressure and heart rate and asks how you are feeling.
2. **The infusion.** A small cannula goes into your arm and the medicine runs slowly over about 40 minutes. Many people feel light, dreamy or detached; music and an eye mask help.
3. **Recovery.** You rest for 30 to 60 minutes while the effects wear off and we check your vital signs again.

## Afterwards

Most people feel tired but clear-headed by the evening. Do not drive, work with machinery or make important decisions until the next day. Your integration session, usually within a day or two, helps you make sense of the experience.

## Questions to bring

- [ ] How many infusions do you recommend for me?
- [ ] Which of my medicines should I pause?
- [ ] Who do I call if I feel unwell afterwards?
"#;

const ESKETAMINE_VS_IV: &str = r#"Ketamine is available in two forms for depression: esketamine, a nasal spray, and racemic ketamine, given as an intravenous (IV) infusion. They are closely related, but they differ in how they are approved, given and paid for.

## Esketamine nasal spray

Esketamine was approved by the FDA in 2019 for adults with treatment-resistant depression, taken together with an oral antidepressant. It is used in certified clinics under supervision, and patients are observed for at least two hours after each dose.

## IV ketamine

IV ketamine has been studied for depression for more than twenty years but is used off-label, which means insurers often do not cover it. Because the dose is given through a drip, it can be adjusted precisely during the infusion.

## How to choose

| | Esketamine | IV ketamine |
|---|---|---|
| How it is given | Nasal spray | Infusion into a vein |
| FDA status for depression | Approved for TRD | Off-label |
| Insurance | Often covered | Rarely covered |

Your psychiatrist will weigh your history, your other medicines and your preferences. Neither option is right for everyone.
"#;

const INTEGRATION: &str = r#"An infusion can bring up memories, feelings and new ways of seeing things. Integration sessions are where you work through them with a therapist, so that changes last beyond the treatment room.

## What happens in a session

We talk about what you noticed during and after your infusion, link it to the goals you set at the start of treatment, and agree on small, concrete steps for the week ahead.

## Getting the most out of it

1. **Write things down** soon after each infusion, while they are fresh.
2. **Be honest** about difficult moments as well as hopeful ones.
3. **Practise** between sessions: the new habits are where lasting change happens.
"#;

const SUPPORTING_A_LOVED_ONE: &str = r#"When someone you love lives with PTSD, it affects the whole family. You may feel helpless, frustrated or shut out, and all of these feelings are normal.

## Ways to help

- Learn about PTSD and how it shows up in everyday life.
- Listen without pushing for details of the trauma.
- Encourage professional help, and offer practical support such as lifts to appointments.
- Look after yourself too: support groups for families can help.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_article_is_valid_and_the_set_is_varied() {
        let now = Utc::now();
        let parsed: Vec<_> = DEMOS.iter().map(|demo| parse(demo, now).unwrap()).collect();

        let statuses: Vec<_> = parsed.iter().map(|(_, l)| l.status).collect();
        use crate::domain::article::Status;
        assert!(statuses.contains(&Status::Scheduled));
        assert!(statuses.contains(&Status::Draft));
        assert!(statuses.iter().filter(|s| **s == Status::Published).count() >= 3);
        for (content, _) in &parsed {
            assert_eq!(
                content.slug_or_derived().unwrap().as_str(),
                content.slug.as_ref().unwrap().as_str()
            );
        }
        let flagship = &parsed[0].0.derive();
        assert!(flagship.outline.len() >= 5);
        assert!(flagship.body_html.contains("<ol>"));
        assert!(
            flagship.body_html.contains("type=\"checkbox\"") || flagship.body_html.contains("[ ]")
        );
    }
}
