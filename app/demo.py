"""Sample disclosure-log entries: two real letters read through the extractor, and a
deterministic generator of more.

`foilog demo` loads a few hundred so a newcomer sees a living log; the benchmarks stream up to a
million through the same generator. Every text is assembled from phrases prepared once (see
`_bank`), so an entry costs a few dozen draws from one `random.Random` and a handful of joins.
"""

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any, NamedTuple

FIRST_RECEIVED = date(2010, 1, 1)
LAST_RECEIVED = date(2026, 10, 31)
# Nothing is dated after this, so a freshly loaded demo holds no scheduled (future) entries.
LAST_DATE = date(2026, 11, 20)

# Generated serials start above the seeds' (22487, 2892), so a generated reference can never
# repeat a seed's, and serials come from the entry index, so references are unique at any count.
SERIAL_BASE = 40_000

# Two-word phrases for search benchmarks. The entry with index i (start_index + its position in
# the run) carries phrase P in its request text exactly when i % RARE_PHRASES[P] is
# RARE_PHRASES[P] // 2: "hovercraft patrol" is in 1 entry of 1,000 (1,000 of a million),
# "zeppelin hangar" in exactly one of the first million (index 500,000). Seeds carry none.
# The first word of each phrase occurs nowhere else; "patrol" and "calibration" do occur
# elsewhere, so a phrase query and an AND of its words give different answers.
RARE_PHRASES: dict[str, int] = {
    "hovercraft patrol": 1_000,
    "tachograph calibration": 10_000,
    "marmoset smuggling": 100_000,
    "zeppelin hangar": 1_000_000,
}

OUTCOMES = (
    "disclosed_in_full",
    "partially_disclosed",
    "refused",
    "neither_confirm_nor_deny",
    "not_held",
    "cost_limit",
    "vexatious_or_repeated",
    "advice_only",
)
# Shares per 200 responses, roughly those of real police disclosure logs.
_OUTCOME_WEIGHTS = (60, 44, 16, 12, 32, 20, 3, 13)

REQUEST_WORDS = (100, 200)
# Years named in texts come before any generated receipt date, so no text mentions its future.
_EARLIEST_YEAR = 2004
RESPONSE_WORDS = (150, 400)


class _Topic(NamedTuple):
    slug: str
    label: str
    family: str
    subject: str
    things: tuple[str, ...]
    documents: tuple[str, ...]


TOPICS: tuple[_Topic, ...] = (
    _Topic(
        "facial-recognition",
        "Facial recognition",
        "technology",
        "the use of facial recognition technology",
        (
            "live facial recognition deployments",
            "retrospective facial recognition searches",
            "watchlist alerts",
        ),
        ("facial recognition deployment log", "watchlist selection criteria"),
    ),
    _Topic(
        "biometrics",
        "Biometrics",
        "technology",
        "the retention of biometric data",
        ("DNA profiles retained", "fingerprint records held", "custody images held"),
        ("biometric retention policy",),
    ),
    _Topic(
        "stop-and-search",
        "Stop and search",
        "powers",
        "the use of stop and search powers",
        ("stop and search encounters", "section 60 authorisations", "searches leading to arrest"),
        ("stop and search scrutiny panel minutes",),
    ),
    _Topic(
        "firearms-licensing",
        "Firearms licensing",
        "powers",
        "firearms and shotgun licensing",
        ("firearm certificates on issue", "shotgun certificates revoked", "applications refused"),
        ("firearms licensing medical guidance",),
    ),
    _Topic(
        "firearms-incidents",
        "Firearms incidents",
        "violence",
        "armed policing and firearms incidents",
        ("armed response deployments", "firearms discharges by officers", "firearms offences"),
        ("armed policing strategic threat assessment",),
    ),
    _Topic(
        "drones",
        "Drones",
        "technology",
        "the use of drones by the force",
        ("drone flights", "unmanned aircraft in service", "drone pilots trained"),
        ("drone operations manual",),
    ),
    _Topic(
        "body-worn-video",
        "Body-worn video",
        "technology",
        "body-worn video cameras",
        ("body-worn cameras issued", "recordings retained", "complaints involving footage"),
        ("body-worn video guidance",),
    ),
    _Topic(
        "custody",
        "Custody",
        "vulnerability",
        "the treatment of people held in custody",
        ("detainees held in custody", "deaths or serious injuries in custody", "strip searches"),
        ("custody suite operating procedure",),
    ),
    _Topic(
        "missing-persons",
        "Missing persons",
        "vulnerability",
        "missing person investigations",
        ("missing person reports", "missing children episodes", "high risk missing cases"),
        ("missing persons procedure",),
    ),
    _Topic(
        "domestic-abuse",
        "Domestic abuse",
        "violence",
        "the police response to domestic abuse",
        (
            "domestic abuse incidents",
            "domestic violence protection notices",
            "Clare's Law disclosures",
        ),
        ("domestic abuse policy",),
    ),
    _Topic(
        "knife-crime",
        "Knife crime",
        "violence",
        "knife crime and weapons offences",
        ("knife crime offences", "knives surrendered in amnesties", "weapons sweeps"),
        ("serious violence strategy",),
    ),
    _Topic(
        "cybercrime",
        "Cybercrime",
        "crime",
        "the investigation of cybercrime",
        ("computer misuse reports", "ransomware investigations", "devices examined"),
        ("digital forensics backlog report",),
    ),
    _Topic(
        "fraud",
        "Fraud",
        "crime",
        "fraud investigations",
        ("fraud reports referred by Action Fraud", "courier fraud victims", "romance fraud cases"),
        ("economic crime strategy",),
    ),
    _Topic(
        "hate-crime",
        "Hate crime",
        "violence",
        "the recording of hate crime",
        ("hate crimes recorded", "non-crime hate incidents", "hate crime charges"),
        ("hate crime recording guidance",),
    ),
    _Topic(
        "road-traffic-collisions",
        "Road traffic collisions",
        "roads",
        "road traffic collisions",
        ("fatal collisions", "serious injury collisions", "collisions involving police vehicles"),
        ("collision investigation manual",),
    ),
    _Topic(
        "speed-cameras",
        "Speed cameras",
        "roads",
        "speed enforcement and safety cameras",
        ("speeding offences detected", "fixed camera sites", "speed awareness referrals"),
        ("camera calibration certificates", "safety camera partnership agreement"),
    ),
    _Topic(
        "taser",
        "Taser",
        "force",
        "the use of Taser by officers",
        ("Taser discharges", "Taser-trained officers", "incidents where Taser was drawn"),
        ("conducted energy device deployment policy",),
    ),
    _Topic(
        "use-of-force",
        "Use of force",
        "force",
        "the use of force by officers",
        ("use of force reports", "incidents involving handcuffs", "spit guard uses"),
        ("use of force monitoring report",),
    ),
    _Topic(
        "police-dogs",
        "Police dogs",
        "resources",
        "police dogs and their handlers",
        ("police dogs in service", "dog bite injuries", "retired dogs rehomed"),
        ("dog section welfare policy",),
    ),
    _Topic(
        "police-vehicles",
        "Police vehicles",
        "roads",
        "the police vehicle fleet",
        ("marked police vehicles", "vehicle pursuits", "fleet vehicles written off"),
        ("fleet replacement plan",),
    ),
    _Topic(
        "overtime",
        "Overtime",
        "workforce",
        "overtime worked by officers and staff",
        ("overtime hours claimed", "rest days cancelled", "overtime payments made"),
        ("overtime authorisation policy",),
    ),
    _Topic(
        "officer-misconduct",
        "Officer misconduct",
        "workforce",
        "misconduct proceedings against officers",
        ("misconduct hearings", "officers dismissed", "complaints upheld against officers"),
        ("professional standards annual report",),
    ),
    _Topic(
        "vetting",
        "Vetting",
        "workforce",
        "police vetting",
        ("vetting applications refused", "officers re-vetted", "vetting appeals"),
        ("vetting code of practice",),
    ),
    _Topic(
        "recruitment",
        "Recruitment",
        "workforce",
        "the recruitment of officers and staff",
        ("constables recruited", "special constables recruited", "applications withdrawn"),
        ("recruitment and retention plan",),
    ),
    _Topic(
        "mental-health",
        "Mental health",
        "vulnerability",
        "incidents involving people in mental health crisis",
        ("section 136 detentions", "mental health related calls", "street triage deployments"),
        ("mental health concordat",),
    ),
    _Topic(
        "child-sexual-exploitation",
        "Child sexual exploitation",
        "vulnerability",
        "child sexual exploitation",
        ("exploitation referrals", "online grooming offences", "indecent image investigations"),
        ("child protection procedure",),
    ),
    _Topic(
        "county-lines",
        "County lines",
        "crime",
        "county lines drug dealing",
        ("county lines networks identified", "drug lines closed", "children referred as victims"),
        ("county lines intensification plan",),
    ),
    _Topic(
        "drugs",
        "Drugs",
        "crime",
        "drug offences",
        ("drug possession offences", "cannabis farms dismantled", "drug driving tests"),
        ("drugs strategy",),
    ),
    _Topic(
        "anti-social-behaviour",
        "Anti-social behaviour",
        "crime",
        "anti-social behaviour",
        ("anti-social behaviour incidents", "community protection notices", "dispersal orders"),
        ("anti-social behaviour case review procedure",),
    ),
    _Topic(
        "protests",
        "Protests",
        "powers",
        "the policing of protests",
        ("protests policed", "arrests at protests", "conditions imposed on assemblies"),
        ("public order operational order",),
    ),
    _Topic(
        "covert-surveillance",
        "Covert surveillance",
        "technology",
        "covert surveillance",
        (
            "directed surveillance authorisations",
            "source authorisations",
            "communications data requests",
        ),
        ("surveillance commissioner inspection report",),
    ),
    _Topic(
        "anpr",
        "Automatic number plate recognition",
        "technology",
        "automatic number plate recognition",
        ("ANPR cameras operated", "ANPR reads stored", "vehicles of interest flagged"),
        ("ANPR data retention policy",),
    ),
    _Topic(
        "emergency-calls",
        "999 and 101 calls",
        "resources",
        "the handling of emergency and non-emergency calls",
        ("999 calls received", "calls answered within ten seconds", "101 calls abandoned"),
        ("contact management strategy",),
    ),
    _Topic(
        "violence-against-women-and-girls",
        "Violence against women and girls",
        "violence",
        "violence against women and girls",
        ("sexual offences reported", "stalking offences", "rape investigations closed"),
        ("violence against women and girls action plan",),
    ),
    _Topic(
        "wildlife-crime",
        "Wildlife crime",
        "environment",
        "wildlife crime",
        ("wildlife crime reports", "raptor persecution incidents", "hare coursing incidents"),
        ("rural crime strategy",),
    ),
    _Topic(
        "police-estate",
        "Police estate",
        "environment",
        "the police estate and its energy use",
        ("police stations closed", "buildings sold", "solar panel installations"),
        ("estates strategy", "carbon reduction plan"),
    ),
    _Topic(
        "it-contracts",
        "IT contracts",
        "resources",
        "information technology contracts",
        ("software licences", "IT contracts awarded", "cloud hosting agreements"),
        ("digital strategy",),
    ),
    _Topic(
        "social-media",
        "Social media",
        "technology",
        "the force's use of social media",
        ("requests to social media companies", "social media accounts run", "posts removed"),
        ("social media policy",),
    ),
    _Topic(
        "modern-slavery",
        "Modern slavery",
        "vulnerability",
        "modern slavery and human trafficking",
        ("modern slavery offences", "potential victims referred", "nail bar inspections"),
        ("modern slavery statement",),
    ),
    _Topic(
        "burglary",
        "Burglary",
        "crime",
        "residential and business burglary",
        ("residential burglaries", "burglaries attended", "burglaries solved"),
        ("burglary investigation policy",),
    ),
    _Topic(
        "shoplifting",
        "Shoplifting",
        "crime",
        "shop theft and retail crime",
        ("shoplifting offences", "retail crime reports", "shop theft arrests"),
        ("retail crime action plan",),
    ),
    _Topic(
        "terrorism",
        "Terrorism",
        "violence",
        "counter-terrorism policing",
        ("Prevent referrals", "Schedule 7 examinations", "terrorism arrests"),
        ("Prevent delivery plan",),
    ),
)

# Officers per force, rounded: entries are drawn in proportion, so the Met dominates as it does.
_FORCE_SIZE: dict[str, int] = {
    "metropolitan": 34_000,
    "police-scotland": 16_500,
    "greater-manchester": 7_800,
    "west-midlands": 7_500,
    "northern-ireland": 6_700,
    "west-yorkshire": 6_000,
    "thames-valley": 5_000,
    "merseyside": 4_000,
    "kent": 4_000,
    "essex": 3_800,
    "devon-and-cornwall": 3_600,
    "hampshire": 3_500,
    "northumbria": 3_500,
    "south-wales": 3_400,
    "lancashire": 3_300,
    "sussex": 3_200,
    "avon-and-somerset": 3_100,
    "south-yorkshire": 3_100,
    "btp": 3_100,
}
_SMALL_FORCE = 1_800
_TINY_FORCES = {"city-of-london": 1_000, "civil-nuclear-constabulary": 1_500}

# Current reference formats as printed. Fields: s serial, y year, yy year % 100. The first six
# follow real forces' formats; the rest are plausible.
_REFERENCE_FORMATS: dict[str, str] = {
    "metropolitan": "01.FOI.{yy:02d}.{s:06d}",
    "hertfordshire": "FOI{y}/{s:05d}",
    "police-scotland": "IM-FOI-{y}-{s:04d}",
    "avon-and-somerset": "{s:04d}-{yy:02d}",
    "warwickshire": "{s:03d}-{y}",
    "west-mercia": "{s:06d}",
    "bedfordshire": "FOI{y}/{s:05d}",
    "cambridgeshire": "FOI{y}/{s:05d}",
    "greater-manchester": "{y}/{s:05d}",
    "west-midlands": "{s:05d}/{yy:02d}",
    "west-yorkshire": "FOI-{s}-{yy:02d}",
    "thames-valley": "FOI-{y}-{s:06d}",
    "northern-ireland": "FOI-{y}-{s:05d}",
    "kent": "{s:05d}/{yy:02d}",
    "essex": "{s:05d}",
    "btp": "FOI-{s}-{yy:02d}",
}
# Older references (aliases) read "<prefix>/<yy>/<serial>", a shape no current format has.
_ALIAS_PREFIXES = {
    "metropolitan": "MPS",
    "police-scotland": "PS",
    "northern-ireland": "PSNI",
    "greater-manchester": "GMP",
    "west-midlands": "WMP",
    "west-yorkshire": "WYP",
    "thames-valley": "TVP",
    "btp": "BTP",
}
_FALLBACK_FORMATS = (
    "HQ/PA/{s:06d}/{yy:02d}",
    "FOI-{s}-{yy:02d}",
    "{y}/{s:05d}",
    "FOI {s:06d}/{yy:02d}",
    "FOI/{y}/{s:06d}",
    "F{yy:02d}-{s:06d}",
    "RFI-{y}-{s:05d}",
    "FOIA/{s:05d}/{yy:02d}",
    "IR-{yy:02d}-{s:05d}",
    "CR/{s:07d}",
)


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_PLACE_HEADS = _names(
    "Ash Brad Kings Thorn Wood Stan Hal Mar Wil Brom Chel Dun Elm Fern Glen Hart Ivy Kel Lang Mil "
    "Nor Oak Pen Red Sal Tam Up Wen Yar Bex Cran Ding Ever Fair Gold Hazel Ken Lyn Moss New Old "
    "Rush Stock Tad Wal Whit Bar Carl Dal East West Brook Clay Hol Ling Pad Ring Shel Tre Wick"
)
_PLACE_TAILS = _names(
    "ford ton ham bury field ley wick worth by stead combe mouth bridge well thorpe dale minster "
    "borough hurst gate chester cott den mere moor port stow wood holme sey hope shaw ing ock "
    "lade brook marsh croft fold haven"
)

_FIRST_NAMES = _names(
    "James Sarah David Emma Paul Helen Mark Rachel Andrew Claire Michael Laura Stephen Karen Peter "
    "Joanne Richard Nicola Simon Lisa Gareth Fiona Ian Louise Neil Hannah Graham Amy Colin Sian "
    "Robert Kirsty Alan Priya Daniel Aisha Thomas Megan Stuart Catherine Owen Zoe Martin Harpreet "
    "Kevin Gemma Jonathan Ruth Philip Leanne Christopher Alison Matthew Bethan Anthony Jennifer"
)
_SURNAMES = _names(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker "
    "White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis Harris Martin Cooper Hughes "
    "Edwards Turner Hill Moore Ward Morris King Baker Campbell Stewart Macdonald Murray Reid Kaur "
    "Ahmed Griffiths Morgan Price Bennett Shaw Fletcher Barker Holmes Chapman Mason Hodgson Pearce "
    "Lloyd Owen Rees Kennedy Fraser Quinn Doherty Byrne"
)
_INITIAL_ROLES = (
    "Information Rights",
    "Information Compliance Officer",
    "Disclosure Officer",
    "Freedom of Information Officer",
    "Information Access Officer",
    "Information Management Unit",
    "Data Protection and FOI Adviser",
)
_REVIEW_ROLES = (
    "Information Rights Manager",
    "Head of Information Management",
    "Information Governance Manager",
    "Review Officer",
)

_UNITS = (
    "Professional Standards Department",
    "Force Control Room",
    "Roads Policing Unit",
    "Criminal Justice Department",
    "Public Protection Unit",
    "Economic Crime Unit",
    "Digital Forensics Unit",
    "Estates Department",
    "Fleet Services",
    "Procurement Department",
    "People Services department",
    "Corporate Development Department",
    "Performance Review Unit",
    "Firearms Licensing Unit",
    "Force Intelligence Bureau",
    "Neighbourhood Policing Team",
    "Major Crime Investigation Team",
    "Counter Terrorism Policing unit",
    "Operational Support Unit",
    "Learning and Development department",
    "Finance Department",
    "Information Management Unit",
    "Custody Management Team",
    "Safeguarding Hub",
    "Rural Crime Team",
    "Marine Unit",
    "Air Support liaison team",
    "Cyber Crime Unit",
    "Serious Organised Crime Unit",
    "Contact Management Centre",
    "Vetting Unit",
    "Occupational Health Unit",
    "Strategic Planning Unit",
    "Legal Services Department",
    "Anti-Corruption Unit",
)
_SYSTEMS = (
    "Niche RMS",
    "Athena",
    "STORM",
    "Connect",
    "PentiP",
    "Origin",
    "SAP",
    "Oracle",
    "HOLMES",
    "the Police National Computer",
    "the Police National Database",
    "ViSOR",
    "Qlik",
    "Power BI",
    "Centurion",
    "Chronicle",
    "the duty management system",
    "the command and control system",
    "the custody record system",
    "the crime recording system",
    "the intelligence system",
    "the case file system",
    "the fleet management database",
    "the learning management system",
    "the complaints database",
    "the Tranman fleet system",
    "the Unifi records system",
    "Salesforce",
)
_PARTNERS = (
    "the local authority",
    "the Home Office",
    "the College of Policing",
    "His Majesty's Inspectorate of Constabulary",
    "the Office of the Police and Crime Commissioner",
    "the Crown Prosecution Service",
    "the local NHS trust",
    "the Independent Office for Police Conduct",
    "National Highways",
    "the National Police Chiefs' Council",
    "Action Fraud",
    "the National Crime Agency",
    "the Ministry of Justice",
    "the Department for Transport",
    "the fire and rescue service",
    "the ambulance service",
    "the youth offending service",
    "the probation service",
    "the community safety partnership",
    "the local safeguarding partnership",
    "the Driver and Vehicle Licensing Agency",
    "Transport for London",
    "the Environment Agency",
    "Natural England",
    "the Forensic Science Regulator",
    "the Biometrics Commissioner",
    "the Investigatory Powers Commissioner",
    "Crimestoppers",
    "the British Retail Consortium",
    "regional organised crime units",
    "Border Force",
)
_DOCUMENTS = (
    "policy",
    "standard operating procedure",
    "equality impact assessment",
    "data protection impact assessment",
    "business case",
    "contract",
    "board minutes",
    "training materials",
    "risk register",
    "audit report",
    "annual report",
    "performance framework",
    "strategic assessment",
    "delivery plan",
    "working practice guide",
    "memorandum of understanding",
    "information sharing agreement",
    "inspection report",
    "workforce plan",
    "procurement strategy",
    "force management statement",
    "governance framework",
    "briefing note",
    "evaluation report",
    "code of practice",
)
# Ordered by how often a real log would mention them: the build draws them with Zipf weights, so
# the first few appear in many entries and the last few in very few.
_CONCEPTS = (
    "public confidence",
    "value for money",
    "operational effectiveness",
    "data quality",
    "accountability",
    "safeguarding",
    "response times",
    "partnership working",
    "community engagement",
    "information sharing",
    "training standards",
    "victim satisfaction",
    "workforce wellbeing",
    "legitimacy",
    "disproportionality",
    "digital capability",
    "crime recording standards",
    "equipment costs",
    "demand management",
    "neighbourhood visibility",
    "procedural fairness",
    "repeat victimisation",
    "resource allocation",
    "risk assessment",
    "officer safety",
    "supervision ratios",
    "case file quality",
    "charging decisions",
    "detection rates",
    "outcome codes",
    "public reassurance",
    "intelligence handling",
    "evidential standards",
    "retention periods",
    "audit trails",
    "vulnerability screening",
    "mutual aid",
    "budget pressures",
    "sickness absence",
    "officer attrition",
    "diversity targets",
    "ethical standards",
    "integrity checks",
    "complaint handling",
    "restorative justice",
    "rural isolation",
    "night-time economy",
    "school liaison",
    "youth diversion",
    "early intervention",
    "hotspot policing",
    "problem-solving plans",
    "crime prevention advice",
    "target hardening",
    "offender management",
    "bail conditions",
    "released under investigation",
    "remand decisions",
    "translation services",
    "interpreter bookings",
    "accessibility adjustments",
    "carbon emissions",
    "electric vehicles",
    "estate rationalisation",
    "shared services",
    "collaboration agreements",
    "regional procurement",
    "software obsolescence",
    "cyber resilience",
    "backup arrangements",
    "business continuity",
    "contingency planning",
    "command structures",
    "gold group oversight",
    "tactical advisers",
    "debrief findings",
    "lessons learned",
    "peer review",
    "independent advisory groups",
    "lay observers",
    "scrutiny panels",
    "ombudsman findings",
    "coroner's recommendations",
    "prevention of future deaths reports",
    "biometric ethics",
    "algorithmic bias",
    "proportionality assessments",
    "necessity tests",
    "collateral intrusion",
    "watchlist governance",
    "footage redaction",
    "storage capacity",
    "cloud migration",
    "legacy records",
    "paper archives",
    "microfiche indexes",
    "retention schedules",
    "destruction certificates",
    "courier logistics",
    "kennel inspections",
    "veterinary costs",
    "saddlery repairs",
    "mounted patrol scheduling",
    "boat maintenance",
    "helicopter flying hours",
    "tyre procurement",
    "livery design",
    "canteen contracts",
    "uniform sizing",
    "locker allocation",
    "bicycle patrols",
    "allotment thefts",
    "heritage crime",
    "church roof lead",
    "metal theft",
    "sheep worrying",
    "badger baiting",
    "poaching patrols",
    "fishing licences",
    "quad bike theft",
    "tractor registration",
    "horse passports",
    "falconry permits",
    "beekeeping thefts",
)

_ACTS = {
    "FOIA": "the Freedom of Information Act 2000",
    "FOISA": "the Freedom of Information (Scotland) Act 2002",
}

_REQUEST_OPENINGS = (
    "Under {act}, I would like to request information held by the police about {subject}, "
    "with particular reference to the {place} area.",
    "I am writing to make a request for information under {act} about {subject}, including "
    "records relating to {place}.",
    "Please treat this as a request for information under {act}. It concerns {subject} "
    "across the police force area, including {place}.",
    "I would be grateful if you could provide the following information about {subject}, "
    "which I am requesting under {act}, for the {place} district and the force as a whole.",
    "This is a request for information about {subject} in the police force area, "
    "particularly around {place}, made under {act}.",
    "I live near {place} and would like to request information about how the police deal "
    "with {subject}.",
)
_REQUEST_CLOSINGS = (
    "Thank you for your help with this request for information.",
    "If any part of this request is unclear, please contact me before refusing it.",
    "I look forward to receiving the information within the statutory time limit.",
    "Please tell me if any of the information requested is already published, and where.",
    "Many thanks for considering this request for information.",
    "I would prefer to receive the information by email as part of this request.",
)
_TOPIC_SENTENCES = (
    "There has been public discussion of {subject}, and I would like to understand the "
    "position locally.",
    "I am particularly interested in {thing} and how they are recorded by the force.",
    "Recent reports suggest that the number of {thing} has changed, and I would like to check "
    "the figures.",
    "I understand that some forces publish data on {thing}, but I could not find comparable "
    "figures for this force.",
    "My interest is in {subject}, including any change to practice since the last inspection.",
    "If figures on {thing} are held in another format, please provide them in whatever form "
    "is easiest to extract.",
    "I would also like to see the {document}, or to be told where it is published.",
    "Please include {thing} dealt with jointly with neighbouring forces.",
    "The questions below concern {subject} and are numbered for ease of reference.",
    "Where the force holds a {document}, please provide the current version and the date it "
    "was approved.",
)
_REQUEST_FILLERS = (
    "Where possible, please provide the data as a spreadsheet rather than as a scanned document.",
    "If answering every part would exceed the cost limit, please tell me which parts can be "
    "answered within it.",
    "Please include any records held by the {unit}.",
    "If the information is held by {partner} rather than the force, please let me know so "
    "that I can redirect my request.",
    "Please search records held on {system} as well as any paper files.",
    "I am content for personal information to be removed before anything is disclosed.",
    "For clarity, I am asking about {concept} rather than individual case details.",
    "I am researching {concept} and {concept2} across several police forces.",
    "Please treat each numbered question as a separate part of one request.",
    "If a relevant {document} exists only in draft, please say so and give the expected date "
    "of completion.",
    "I would also like to know whether the {unit} has reviewed {concept} since {year}.",
    "Figures rounded to the nearest ten would be acceptable if exact numbers could identify "
    "anyone.",
    "My interest arises from a local debate about {concept} and the role of {partner}.",
    "If the force relies on data supplied by {partner}, please identify the source.",
    "Information already provided to {partner} in an annual return would be sufficient.",
    "I have read the published {document} and could not find the answer there.",
    "Please explain any change in recording practice affecting {concept} during the period.",
    "If the {unit} keeps a separate log, please include its figures.",
    "I understand that national guidance on {concept} was revised in {year}, and I am "
    "interested in its local effect.",
    "It would help if the response explained how {concept} is measured by the force.",
    "I would welcome any published material on {concept} that the force considers relevant.",
    "Neighbourhood patrol teams may hold some of this information locally.",
    "I am not asking for anything that would identify an individual officer or member of the "
    "public.",
    "If the request is too broad, I am happy to discuss a narrower version of it.",
    "Please confirm which system the figures come from, for example {system}.",
    "Any correspondence between the force and {partner} on this subject since {year} would "
    "also be of interest.",
    "I have asked similar questions of other forces so that {concept} can be compared fairly.",
    "Please state the date on which the data were extracted.",
)
_RESPONSE_OPENINGS: dict[str, tuple[str, ...]] = {
    "disclosed_in_full": (
        "Thank you for your request for information, which has been handled under {act}. "
        "The police force holds the information you asked for, and it is provided in full below.",
        "Your request has been considered under {act}. I can confirm that the force holds "
        "information relevant to your request, and all of it is disclosed below.",
        "I write in response to your request for information. Searches are complete and the "
        "information held is set out below, question by question.",
    ),
    "partially_disclosed": (
        "Your request has been considered under {act}. Some of the information is disclosed "
        "below, but part of it is exempt, and this letter is a refusal notice for that part.",
        "I have today decided to release some of the information requested. The rest is "
        "withheld under the exemptions explained below, so this response is a partial refusal.",
        "The police force holds information relevant to your request. Most of it is provided "
        "below; some of it has been withheld, for the reasons given.",
    ),
    "refused": (
        "Your request for information has been considered under {act}. The force holds the "
        "information, but it is exempt from disclosure, and this letter is a refusal notice.",
        "I am writing to explain that the information you requested from the police is "
        "withheld in full under the exemptions set out below.",
    ),
    "neither_confirm_nor_deny": (
        "Your request for information has been considered under {act}. The police force "
        "neither confirms nor denies whether it holds the information requested.",
        "I can neither confirm nor deny that the information you have requested is held. This "
        "should not be read as a sign that the information does or does not exist.",
    ),
    "not_held": (
        "Your request for information has been considered under {act}. After searches of the "
        "relevant records, the force does not hold the information you asked for.",
        "I am writing to let you know that the information requested is not held by the police "
        "force. Enquiries were made with the departments most likely to hold it.",
    ),
    "cost_limit": (
        "Your request for information has been considered under {act}. Complying with it would "
        "exceed the appropriate cost limit, so the force is not obliged to answer it.",
        "I regret that the police force cannot answer your request within the cost limit set by "
        "regulations. The reasons, and ways to narrow the request, are given below.",
    ),
    "vexatious_or_repeated": (
        "Your request has been considered under {act}. The police force has decided that it "
        "is a repeated or vexatious request, and it will not be answered.",
        "I am writing to tell you that the force will not comply with your request, which is "
        "substantially similar to earlier requests answered recently.",
    ),
    "advice_only": (
        "Your request for information has been considered under {act}. The force does not hold "
        "the information requested, but I hope the advice below assists you.",
        "The information you asked for is not held by the police force. Under our duty to "
        "advise and assist, I have suggested below where it may be found.",
    ),
}
_REVIEW_OPENINGS = {
    "upheld": (
        "You asked the police force to review its response to your request for information. "
        "The review was carried out by someone not involved in the original decision, and it "
        "upholds that decision.",
        "This is the outcome of the internal review you requested. Having considered the "
        "request and the original response afresh, the reviewer agrees with the original "
        "decision.",
    ),
    "varied": (
        "You asked for an internal review of the response to your request for information. "
        "Having considered the request afresh, the reviewer has decided that more information "
        "can now be released, as set out below.",
        "This is the outcome of the internal review you requested. The reviewer has partly "
        "overturned the original decision, and the further information released is given "
        "below.",
    ),
}
_RESPONSE_CLOSINGS = {
    "FOIA": (
        "If you are dissatisfied with this response, you may ask for an internal review within "
        "40 working days. If you remain dissatisfied, you may then complain to the Information "
        "Commissioner's Office.",
        "Information released under the Act is regarded as published and in the public domain. "
        "You may ask for a review of this decision, and then apply to the Information "
        "Commissioner.",
        "Should you have further questions about this response, please contact the information "
        "rights team quoting the reference above.",
    ),
    "FOISA": (
        "If you are dissatisfied with this response, you may ask Police Scotland to review it "
        "within 40 working days. If you remain dissatisfied, you may then apply to the Scottish "
        "Information Commissioner.",
        "You may request a review of this decision within 40 working days, and afterwards "
        "appeal to the Scottish Information Commissioner or, on a point of law, to the Court of "
        "Session.",
    ),
}
_REVIEW_CLOSINGS = {
    "FOIA": (
        "If you remain dissatisfied after this review, you may complain to the Information "
        "Commissioner's Office, which can investigate how the request was handled.",
    ),
    "FOISA": (
        "If you remain dissatisfied after this review, you may apply to the Scottish "
        "Information Commissioner within six months for a decision.",
    ),
}
_RESPONSE_FILLERS = (
    "The figures were extracted from {system} and reflect the records held on the date of "
    "extraction.",
    "Searches were carried out by the {unit}, which holds the records relevant to your request.",
    "Recording practices changed during the period, so year-on-year comparisons should be made "
    "with care.",
    "Some related records are held by {partner}, who may be able to assist you further.",
    "The force publishes information of wider interest, including its {document}, on its website.",
    "In reaching this decision the force has considered {concept} and {concept2}.",
    "Figures below five have been suppressed where they could identify individuals.",
    "The data are management information and have not had the quality assurance applied to "
    "official statistics.",
    "Where a record could fall into more than one category, it has been counted once.",
    "The {unit} confirmed that no other searchable system holds this information.",
    "Information about {concept} is also reported to {partner} each year.",
    "The {document} was last reviewed in {year} and is due for review again shortly.",
    "Retrieving further detail would require a manual review of individual records.",
    "The force is committed to openness about {concept}, within the limits of the law.",
    "Neighbourhood patrol records are not held centrally and have not been searched.",
    "Figures for the current year are provisional and may change as records are updated.",
    "Free text fields on {system} cannot be searched reliably, so they have not been used.",
    "The response has been prepared with advice from the {unit}.",
    "Any disclosure under the Act is a disclosure to the world, not only to the person who asked.",
    "Comparisons with other forces may mislead, because data on {concept} are recorded differently "
    "across the country.",
    "The force's approach to {concept} is set out in its {document}.",
    "Officers record this information on {system}, which has been in use since {year}.",
    "No information is held for the period before {year}, when the current system was introduced.",
    "The force works closely with {partner} on matters concerning {concept}.",
    "Where a figure is nil, no records matching the criteria were found.",
)
_QUESTION_TEMPLATES = (
    "How many {thing} were recorded in each of the last three financial years?",
    "Please provide the number of {thing} for each calendar year since {year}.",
    "Please break down the number of {thing} by month for the most recent year.",
    "Please break down the figures for {thing} by age, sex and self-defined ethnicity.",
    "How many {thing} were there in each policing district or local policing area?",
    "Of the {thing}, how many resulted in a charge or summons?",
    "How many {thing} involved a person under the age of 18?",
    "How many {thing} were referred to another agency?",
    "Please provide a copy of the {document}.",
    "What is the total annual cost to the force of {subject}?",
    "Which company supplies the equipment or software used for {subject}, and what is the "
    "value of the contract?",
    "Does the force have a written policy on {subject}? If so, please provide a copy.",
    "How many officers and staff are assigned to work on {subject}?",
    "Has the force carried out an equality impact assessment relating to {subject}?",
    "How many complaints have been received about {subject}, and how many were upheld?",
    "When was the {document} last reviewed, and by whom?",
    "Please provide any internal review or audit of {subject} completed since {year}.",
    "Does the force share data about {subject} with any other organisation? If so, which?",
    "What training is given to officers about {subject}, and how long does it last?",
    "What was the average time taken to deal with {thing} in the last year?",
)
_ANSWER_TEMPLATES = (
    "{n} {thing} were recorded in the period requested.",
    "The force recorded {n} {thing}; a breakdown by year is given in the attached table.",
    "Figures for {thing} are taken from {system}. The total for the period was {n}.",
    "A copy of the {document} is attached and released in full.",
    "The force does not keep a separate {document}; it follows the national guidance issued "
    "by the College of Policing.",
    "{n} officers and staff currently work in this area, although the number changes with demand.",
    "Yes. The {document} was approved in {year} and is published on the force website.",
    "No. The force has not carried out an assessment of this kind.",
    "The average for the period was {n} days, measured from report to closure.",
    "No complaints of this kind were recorded in the period.",
    "The contract is held with a national supplier; its value over the term is {money}.",
    "The attached table gives {thing} by district. Districts with fewer than five cases are "
    "combined.",
)
_OUTCOME_ANSWERS: dict[str, tuple[str, ...]] = {
    "refused": (
        "The information requested is withheld in full under the exemptions cited above.",
        "This information is exempt from disclosure for the reasons explained in this letter.",
    ),
    "neither_confirm_nor_deny": (
        "The force neither confirms nor denies that it holds information relevant to this part "
        "of the request.",
        "No inference should be drawn about whether information of this kind exists.",
    ),
    "not_held": (
        "This information is not held. The force does not record it in a retrievable form.",
        "No information is held. Searches of the relevant systems found no matching records.",
    ),
    "cost_limit": (
        "Answering this would require a manual review of every relevant record, which would "
        "exceed the cost limit. A request limited to a single year may be answerable.",
        "The information is not held in a searchable field, so retrieving it would exceed the "
        "cost limit. Narrowing the period or the categories may help.",
    ),
    "vexatious_or_repeated": (
        "This request is substantially similar to earlier requests, and it will not be answered.",
        "The force considers this request vexatious, for the reasons set out above.",
    ),
    "advice_only": (
        "This information is not held by the force. The Home Office publishes national figures "
        "that may help.",
        "The force does not hold this information. The local authority may hold it, and you "
        "may wish to contact it directly.",
    ),
}
_REVIEW_ANSWERS = {
    "upheld": "The reviewer agrees with the original response to this part of the request.",
    "disclosed_in_full": "The information previously withheld is now released in full.",
    "partially_disclosed": (
        "Part of the information previously withheld is now released; the remainder stays exempt."
    ),
}
_WITHHELD_ANSWERS = (
    "Information for this part is withheld under {rule} {provision}; the reasons are given above.",
    "This part of the request is exempt under {rule} {provision}, as explained in this letter.",
)

# Exemptions a force cites to withhold (weights per 100 citations, roughly as police logs show).
_WITHHOLD_WEIGHTS = {
    "FOIA": {
        "foia-s21": 4, "foia-s22": 3, "foia-s23": 1, "foia-s24": 3, "foia-s26": 1,
        "foia-s27": 1, "foia-s28": 1, "foia-s29": 1, "foia-s30": 6, "foia-s31": 18,
        "foia-s32": 1, "foia-s33": 1, "foia-s34": 1, "foia-s35": 1, "foia-s36": 1,
        "foia-s37": 1, "foia-s38": 4, "foia-s39": 1, "foia-s40": 18, "foia-s41": 2,
        "foia-s42": 2, "foia-s43": 4, "foia-s44": 2,
    },
    "FOISA": {
        "foisa-s25": 3, "foisa-s26": 1, "foisa-s27": 2, "foisa-s28": 1, "foisa-s29": 1,
        "foisa-s30": 3, "foisa-s31": 2, "foisa-s32": 1, "foisa-s33": 2, "foisa-s34": 5,
        "foisa-s35": 14, "foisa-s36": 1, "foisa-s37": 1, "foisa-s38": 14, "foisa-s39": 4,
        "foisa-s40": 1, "foisa-s41": 1,
    },
    "EIR": {
        "eir-r12-4-c": 1, "eir-r12-4-d": 1, "eir-r12-4-e": 1, "eir-r12-5-a": 2,
        "eir-r12-5-b": 3, "eir-r12-5-e": 1, "eir-r12-5-f": 1, "eir-r12-5-g": 2, "eir-r13": 3,
    },
}  # fmt: skip
_NCND_WEIGHTS = {
    "FOIA": {
        "foia-s23": 3, "foia-s24": 5, "foia-s26": 1, "foia-s27": 1, "foia-s30": 4,
        "foia-s31": 8, "foia-s32": 1, "foia-s38": 2, "foia-s40": 5, "foia-s41": 1,
        "foia-s42": 1, "foia-s43": 1, "foia-s44": 1,
    },
    # Police Scotland refuses to confirm or deny under s18(1), always cited with an exemption.
    "FOISA": {
        "foisa-s28": 1, "foisa-s30": 1, "foisa-s31": 3, "foisa-s34": 4, "foisa-s35": 8,
        "foisa-s38": 4, "foisa-s39": 2, "foisa-s41": 1,
    },
    "EIR": {"eir-r12-5-a": 2, "eir-r13": 1},
}  # fmt: skip
# Provisions as forces print them; an exemption not listed is cited as "<section>(1)".
_PROVISIONS: dict[str, tuple[str, ...]] = {
    "foia-s22": ("22(1)", "22(1)(a)"),
    "foia-s26": ("26(1)(b)",),
    "foia-s27": ("27(1)(a)", "27(2)"),
    "foia-s28": ("28(1)",),
    "foia-s29": ("29(1)(a)",),
    "foia-s30": ("30(1)(a)", "30(1)(b)", "30(2)(a)(ii)"),
    "foia-s31": ("31(1)(a)", "31(1)(b)", "31(1)(a)(b)", "31(1)(c)", "31(1)(g)"),
    "foia-s32": ("32(1)(a)", "32(2)"),
    "foia-s33": ("33(1)(b)",),
    "foia-s35": ("35(1)(a)",),
    "foia-s36": ("36(2)(b)(i)", "36(2)(c)"),
    "foia-s37": ("37(1)(b)",),
    "foia-s38": ("38(1)(a)", "38(1)(b)", "38(1)(a)(b)"),
    "foia-s40": ("40(2)", "40(2)(a)(b)", "40(1)"),
    "foia-s42": ("42(1)",),
    "foia-s43": ("43(2)", "43(1)"),
    "foia-s44": ("44(1)(a)",),
    "foisa-s26": ("26(a)",),
    "foisa-s29": ("29(1)(a)",),
    "foisa-s30": ("30(b)(i)", "30(c)"),
    "foisa-s33": ("33(1)(b)",),
    "foisa-s34": ("34(1)(a)", "34(1)(b)"),
    "foisa-s35": ("35(1)(a)", "35(1)(b)", "35(1)(a)&(b)"),
    "foisa-s36": ("36(2)",),
    "foisa-s38": ("38(1)(b)",),
    "foisa-s39": ("39(1)",),
    "foisa-s40": ("40(a)",),
    "foisa-s41": ("41(b)",),
    "eir-r12-4-c": ("12(4)(c)",),
    "eir-r12-4-d": ("12(4)(d)",),
    "eir-r12-4-e": ("12(4)(e)",),
    "eir-r12-5-a": ("12(5)(a)",),
    "eir-r12-5-b": ("12(5)(b)",),
    "eir-r12-5-e": ("12(5)(e)",),
    "eir-r12-5-f": ("12(5)(f)",),
    "eir-r12-5-g": ("12(5)(g)",),
    "eir-r13": ("13(1)",),
}
_PROCEDURAL: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "cost_limit": {"FOIA": ("foia-s12", ("12(1)",)), "FOISA": ("foisa-s12", ("12(1)",))},
    "vexatious_or_repeated": {
        "FOIA": ("foia-s14", ("14(1)", "14(2)")),
        "FOISA": ("foisa-s14", ("14(1)", "14(2)")),
    },
    # FOISA, unlike FOIA, requires a formal notice that information is not held.
    "not_held": {"FOISA": ("foisa-s17", ("17(1)",))},
}
_PROCEDURAL_PARAGRAPHS = {
    "foia-s12": "Section 12(1) of the Act allows a public authority to refuse a request where "
    "the cost of compliance would exceed the appropriate limit, which for the police is 450 "
    "pounds, or 18 hours of work.",
    "foisa-s12": "Section 12(1) of the Act means the force need not comply where the cost of "
    "doing so would exceed 600 pounds, calculated at no more than 15 pounds an hour.",
    "foia-s14": "Section {provision} of the Act removes the duty to comply with a request that "
    "is vexatious or that repeats an earlier request without a reasonable interval.",
    "foisa-s14": "Section {provision} of the Act means the force is not obliged to comply with "
    "a vexatious request, or one repeating an earlier request.",
    "foisa-s17": "This letter is a notice under section 17(1) of the Act that the information "
    "requested is not held by Police Scotland.",
}
_EXEMPTION_PARAGRAPHS = {
    "absolute": "{rule} {provision} ({heading}) is an absolute exemption, so no public interest "
    "test is required. It applies to part of the information requested.",
    "prejudice": "{rule} {provision} ({heading}) is a prejudice-based qualified exemption. The "
    "force has assessed the harm that disclosure would be likely to cause and has carried out "
    "the public interest test summarised below.",
    "class": "{rule} {provision} ({heading}) is a class-based qualified exemption, so the "
    "information falls within it by its nature, but the public interest test still applies.",
    "mixed": "{rule} {provision} ({heading}) applies. Depending on the part relied on, it is "
    "either absolute or subject to the public interest test, and both have been considered.",
    "ncnd": "{rule} {provision} ({heading}) means the force is not obliged to confirm or deny "
    "whether it holds this information, because doing so would itself disclose exempt "
    "information.",
    "ncnd-foisa": "Under section 18(1) of the Act, the force refuses to reveal whether the "
    "information exists or is held, as doing so would be contrary to the public interest; if "
    "it existed, it would be exempt under section {provision} ({heading}).",
}
_SECTION_18 = (
    "Section 18(1) of the Act allows the force to refuse to reveal whether information exists "
    "or is held where revealing it would be contrary to the public interest."
)
_PUBLIC_INTEREST_FOR = (
    "Disclosure would promote accountability and transparency in the use of public funds.",
    "The public has a legitimate interest in how the force uses its powers.",
    "Release would inform public debate on an issue of genuine concern.",
    "An informed public is better able to protect itself.",
    "Openness can increase public confidence in the police service.",
    "Disclosure would show whether the force is meeting its legal obligations.",
    "The information would help the public judge whether resources are deployed effectively.",
)
_PUBLIC_INTEREST_AGAINST = {
    "enforcement": (
        "Disclosure would reveal policing tactics and capabilities that offenders could exploit.",
        "Release could compromise ongoing and future investigations.",
        "Offenders could use the information to map where enforcement is weakest.",
        "The force's ability to prevent and detect crime would be undermined.",
    ),
    "security": (
        "Disclosure would give those intent on terrorism an insight into national security "
        "arrangements.",
        "Piecing together releases from several forces could expose vulnerabilities.",
        "The current threat level means that any tactical insight carries serious risk.",
    ),
    "safety": (
        "Release could endanger the physical or mental health of individuals.",
        "Disclosure could expose officers and staff to a risk of harm.",
    ),
    "commercial": (
        "Disclosure would prejudice the commercial interests of the force and its suppliers.",
        "Release could weaken the force's position in future procurement.",
    ),
    "publication": (
        "The information is due to be published, and early release would undermine that process.",
        "Material still in draft could mislead if released before it is finalised.",
    ),
    "deliberation": (
        "Officials need a safe space to discuss options candidly.",
        "Release could inhibit the free and frank exchange of views.",
        "Disclosure could prejudice the effective conduct of public affairs.",
    ),
}
_PUBLIC_INTEREST_BALANCE = {
    "enforcement": (
        "The public interest in effective law enforcement outweighs the benefit of disclosure.",
        "While transparency matters, protecting policing tactics is in the greater public "
        "interest.",
    ),
    "security": (
        "Safeguarding national security outweighs the public interest in disclosure.",
        "The public interest in protecting the public from terrorism prevails.",
    ),
    "safety": ("The risk to the safety of individuals outweighs the benefit of release.",),
    "commercial": (
        "Protecting the force's commercial position best serves the public interest at this time.",
    ),
    "publication": (
        "The public interest is best served by publishing the finished material as planned.",
    ),
    "deliberation": (
        "The need for a safe space for deliberation outweighs the case for disclosure.",
    ),
}
_PUBLIC_INTEREST_CATEGORY = {
    "foia-s23": "security", "foia-s24": "security", "foia-s26": "security",
    "foia-s27": "security", "foia-s30": "enforcement", "foia-s31": "enforcement",
    "foia-s38": "safety", "foia-s43": "commercial", "foia-s29": "commercial",
    "foia-s22": "publication", "foisa-s31": "security", "foisa-s32": "security",
    "foisa-s34": "enforcement", "foisa-s35": "enforcement", "foisa-s39": "safety",
    "foisa-s33": "commercial", "foisa-s27": "publication", "eir-r12-5-a": "security",
    "eir-r12-5-b": "enforcement", "eir-r12-5-e": "commercial", "eir-r12-4-d": "publication",
}  # fmt: skip
_HARM = (
    "Disclosure would, or would be likely to, prejudice the interests the exemption protects.",
    "The harm is real and significant: the information would assist those seeking to evade "
    "detection.",
    "Release to the world at large would make it easier to commit offences undetected.",
)
_QUESTION_SCHEMES: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (("1",),),
    2: (("1", "2"), ("1a", "1b")),
    3: (("1", "2", "3"), ("1", "2a", "2b")),
    4: (("1", "2", "3", "4"), ("1", "2", "3a", "3b"), ("1a", "1b", "2", "3")),
    5: (("1", "2", "3", "4", "5"), ("1", "2", "3", "4a", "4b"), ("1", "2a", "2b", "2c", "3")),
    6: (
        ("1", "2", "3", "4", "5", "6"),
        ("1", "2", "3", "4", "5d(i)", "5d(ii)"),
        ("1", "2", "3a", "3b", "3c", "4"),
    ),
}
# Weights of 1..6 questions per request.
_QUESTION_COUNTS = (15, 20, 25, 18, 12, 10)
_ENVIRONMENTAL_FAMILY = "environment"


def _words(text: str) -> int:
    return text.count(" ") + 1


def _force_code(force_id: str) -> str:
    """`north-wales` -> `NW`, `dorset` -> `DOR`: the prefix of an older reference format."""
    parts = [part for part in force_id.split("-") if part not in ("and", "of")]
    return (parts[0][:3] if len(parts) == 1 else "".join(part[0] for part in parts)).upper()


def _load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        (resources.files("app") / "reference" / name).read_text(encoding="utf-8")
    )
    return data


def _flat(weights: dict[str, int]) -> tuple[str, ...]:
    return tuple(key for key, weight in weights.items() for _ in range(weight))


def _format_all(templates: Sequence[str], **values: str) -> tuple[str, ...]:
    return tuple(template.format(**values) for template in templates)


class _Force(NamedTuple):
    id: str
    law: str
    reference: str
    alias: str


class _Citable(NamedTuple):
    """One way of citing an exemption, with the paragraph the response text gives it."""

    exemption: str
    provision: str
    paragraph: str
    words: int
    ncnd: bool
    category: str | None  # public interest category; None when there is no public interest test
    harm: bool


class _TopicBank(NamedTuple):
    topic: _Topic
    titles: tuple[str, ...]
    sentences: tuple[tuple[str, int], ...]
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    related: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Bank:
    forces: tuple[_Force, ...]
    force_draw: tuple[int, ...]
    topics: tuple[_TopicBank, ...]
    places: tuple[str, ...]
    ordinal_iso: tuple[str, ...]
    times: tuple[str, ...]
    openings: dict[str, tuple[str, ...]]
    request_closings: tuple[tuple[str, int], ...]
    request_fillers: tuple[tuple[str, int], ...]
    response_openings: dict[tuple[str, str], tuple[tuple[str, int], ...]]
    review_openings: dict[str, tuple[tuple[str, int], ...]]
    review_closings: dict[str, tuple[tuple[str, int], ...]]
    response_closings: dict[str, tuple[tuple[str, int], ...]]
    response_fillers: tuple[tuple[str, int], ...]
    withhold: dict[str, tuple[_Citable, ...]]
    ncnd: dict[str, tuple[_Citable, ...]]
    procedural: dict[tuple[str, str], tuple[_Citable, ...]]
    section_18: _Citable
    request_span: tuple[int, int]
    response_span: tuple[int, int]


def _sized(texts: Sequence[str]) -> tuple[tuple[str, int], ...]:
    return tuple((text, _words(text)) for text in texts)


def _span(bounds: tuple[int, int], pieces: Sequence[tuple[str, int]]) -> tuple[int, int]:
    """Targets for filling with `pieces` so that any overshoot still lands inside `bounds`."""
    low, high = bounds
    longest = max(words for _, words in pieces)
    return low, high - longest + 1 - low


@cache
def _bank() -> _Bank:
    # A fixed build seed: the phrase bank is part of the module, not of any one run.
    build = random.Random(0x0F01)  # noqa: S311
    zipf = list(accumulate(1 / rank for rank in range(1, len(_CONCEPTS) + 1)))

    def concept() -> str:
        return build.choices(_CONCEPTS, cum_weights=zipf)[0]

    def fill(template: str, **fixed: str) -> str:
        slots = {
            "unit": build.choice(_UNITS),
            "system": build.choice(_SYSTEMS),
            "partner": build.choice(_PARTNERS),
            "document": build.choice(_DOCUMENTS),
            "concept": concept(),
            "concept2": concept(),
            "year": str(build.randrange(_EARLIEST_YEAR, FIRST_RECEIVED.year)),
        }
        return template.format_map(slots | fixed)

    forces_data = _load("forces.json")
    exemptions = {row["id"]: row for row in _load("exemptions.json")}
    forces = []
    for position, row in enumerate(forces_data):
        force_id = row["id"]
        current = _REFERENCE_FORMATS.get(
            force_id, _FALLBACK_FORMATS[position % len(_FALLBACK_FORMATS)]
        )
        prefix = _ALIAS_PREFIXES.get(force_id) or _force_code(force_id)
        alias = prefix + "/{yy:02d}/{s:06d}"
        forces.append(_Force(force_id, row["law"], current, alias))
    force_draw = tuple(
        position
        for position, force in enumerate(forces)
        for _ in range(_FORCE_SIZE.get(force.id, _TINY_FORCES.get(force.id, _SMALL_FORCE)) // 250)
    )

    families: dict[str, list[str]] = {}
    for topic in TOPICS:
        families.setdefault(topic.family, []).append(topic.slug)
    topics = []
    for topic in TOPICS:
        subject, things, documents = topic.subject, topic.things, topic.documents
        titles = (
            topic.label,
            f"{topic.label}: figures and policy",
            f"{topic.label} data",
            f"{topic.label} - records held",
            *(thing[0].upper() + thing[1:] for thing in things),
            *(f"{thing[0].upper() + thing[1:]} by year" for thing in things),
            *(f"{doc[0].upper() + doc[1:]}" for doc in documents),
            f"Costs of {subject}",
            f"Policy on {subject}",
        )
        sentences = _sized(
            [
                template.format(subject=subject, thing=thing, document=build.choice(documents))
                for template in _TOPIC_SENTENCES
                for thing in things
            ]
        )
        questions = [
            template.format(
                thing=thing,
                subject=subject,
                document=build.choice(documents + _DOCUMENTS),
                year=str(build.randrange(_EARLIEST_YEAR, FIRST_RECEIVED.year)),
            )
            for template in _QUESTION_TEMPLATES
            for thing in things
        ]
        build.shuffle(questions)
        answers = [
            fill(
                template,
                thing=thing,
                n=str(int(5 * 900 ** build.random())),
                money=f"£{build.randrange(12, 2400) * 500:,}",
                document=build.choice(documents),
            )
            for template in _ANSWER_TEMPLATES
            for thing in things
        ]
        build.shuffle(answers)
        # Repeat the head so that any six consecutive items can be sliced without wrapping.
        topics.append(
            _TopicBank(
                topic,
                titles,
                sentences,
                tuple(questions + questions[:6]),
                tuple(answers + answers[:6]),
                tuple(slug for slug in families[topic.family] if slug != topic.slug),
            )
        )

    places = tuple(head + tail.lower() for head in _PLACE_HEADS for tail in _PLACE_TAILS)
    build_places = list(places)
    build.shuffle(build_places)

    first = FIRST_RECEIVED.toordinal()
    ordinal_iso = tuple(
        date.fromordinal(o).isoformat() for o in range(first, LAST_DATE.toordinal() + 1)
    )
    times = tuple(f"T{h:02d}:{m:02d}:00Z" for h in range(8, 18) for m in (0, 15, 30, 45))

    # Sorted sets: templates without slots would otherwise be drawn 120 times as often.
    request_fillers = _sized(sorted({fill(t) for t in _REQUEST_FILLERS for _ in range(120)}))
    response_fillers = _sized(sorted({fill(t) for t in _RESPONSE_FILLERS for _ in range(120)}))
    request_closings = _sized(_REQUEST_CLOSINGS)

    def citable(exemption_id: str, provision: str, *, ncnd: bool) -> _Citable:
        row = exemptions[exemption_id]
        rule = "Regulation" if row["law"] == "EIR" else "Section"
        if ncnd:
            shape = "ncnd-foisa" if row["law"] == "FOISA" else "ncnd"
        elif row["kind"] == "absolute":
            shape = "absolute"
        elif row["kind"] == "qualified":
            shape = row["test"] if row["test"] in ("prejudice", "class") else "mixed"
        else:
            shape = "mixed"
        paragraph = _EXEMPTION_PARAGRAPHS[shape].format(
            rule=rule, provision=provision, heading=row["heading"]
        )
        category = (
            _PUBLIC_INTEREST_CATEGORY.get(exemption_id, "deliberation")
            if row["kind"] == "qualified"
            else None
        )
        return _Citable(
            exemption_id,
            provision,
            paragraph,
            _words(paragraph),
            ncnd,
            category,
            row["test"] == "prejudice",
        )

    withhold = {
        law: tuple(
            citable(exemption_id, provision, ncnd=False)
            for exemption_id in _flat(weights)
            for provision in _PROVISIONS.get(
                exemption_id, (exemptions[exemption_id]["section"] + "(1)",)
            )
        )
        for law, weights in _WITHHOLD_WEIGHTS.items()
    }

    def ncnd_provision(exemption_id: str) -> tuple[str, ...]:
        row = exemptions[exemption_id]
        if row["law"] == "FOISA":
            # s18(1) carries the NCND; the exemption keeps its own subsection.
            return _PROVISIONS.get(exemption_id, (row["section"] + "(1)",))
        return tuple(part.strip() for part in row["ncnd_subsection"].split(","))

    ncnd = {
        law: tuple(
            citable(exemption_id, provision, ncnd=True)
            for exemption_id in _flat(weights)
            for provision in ncnd_provision(exemption_id)
        )
        for law, weights in _NCND_WEIGHTS.items()
    }
    procedural: dict[tuple[str, str], tuple[_Citable, ...]] = {}
    for outcome, by_law in _PROCEDURAL.items():
        for law, (exemption_id, provisions) in by_law.items():
            procedural[outcome, law] = tuple(
                _Citable(exemption_id, provision, text, _words(text), False, None, False)
                for provision in provisions
                for text in [_PROCEDURAL_PARAGRAPHS[exemption_id].format(provision=provision)]
            )

    response_openings = {
        (law, outcome): _sized(_format_all(templates, act=act))
        for law, act in _ACTS.items()
        for outcome, templates in _RESPONSE_OPENINGS.items()
    }
    review_openings = {verdict: _sized(texts) for verdict, texts in _REVIEW_OPENINGS.items()}
    review_closings = {law: _sized(texts) for law, texts in _REVIEW_CLOSINGS.items()}
    response_closings = {law: _sized(texts) for law, texts in _RESPONSE_CLOSINGS.items()}
    openings = {
        law: tuple(t.replace("{act}", act) for t in _REQUEST_OPENINGS) for law, act in _ACTS.items()
    }
    return _Bank(
        forces=tuple(forces),
        force_draw=force_draw,
        topics=tuple(topics),
        places=tuple(build_places),
        ordinal_iso=ordinal_iso,
        times=times,
        openings=openings,
        request_closings=request_closings,
        request_fillers=request_fillers,
        response_openings=response_openings,
        review_openings=review_openings,
        review_closings=review_closings,
        response_closings=response_closings,
        response_fillers=response_fillers,
        withhold=withhold,
        ncnd=ncnd,
        procedural=procedural,
        section_18=_Citable(
            "foisa-s18", "18(1)", _SECTION_18, _words(_SECTION_18), True, None, False
        ),
        request_span=_span(REQUEST_WORDS, request_fillers + sum((t.sentences for t in topics), ())),
        response_span=_span(RESPONSE_WORDS, response_fillers),
    )


@dataclass(frozen=True)
class _Seed:
    """A real letter the demo reads through the extractor, and what an FOI officer checking
    the draft adds: a title, topics and the date the entry was published. Nothing the letter
    states is changed."""

    letter: str
    force: str
    title: str
    topics: tuple[str, ...]
    published_at: str


_SEEDS = (
    _Seed(
        "metropolitan-01.FOI.22.022487.txt",
        "metropolitan",
        "Retrospective facial recognition",
        ("facial-recognition", "biometrics"),
        "2022-03-02T09:00:00Z",
    ),
    _Seed(
        "hertfordshire-FOI2018-02892.txt",
        "hertfordshire",
        "Facial image database and facial recognition",
        ("facial-recognition", "biometrics"),
        "2018-06-27T09:00:00Z",
    ),
)


@dataclass(frozen=True)
class SeedDraft:
    letter: str
    entry: dict[str, Any]
    warnings: list[str]
    missing: list[str]  # what the letter does not print and an entry cannot do without


def seed_drafts() -> list[SeedDraft]:
    """The two real letters in `app/letters/seeds/`, each read through the extractor."""
    from app.letters import service

    drafts = []
    for seed in _SEEDS:
        data = (resources.files("app.letters") / "seeds" / seed.letter).read_bytes()
        extraction = service.extract(
            data, media_type="text/plain", force=seed.force, max_bytes=len(data)
        )
        entry = {
            **extraction.entry,
            "title": seed.title,
            "topics": list(seed.topics),
            "published_at": seed.published_at,
        }
        missing = [] if "received_on" in entry else ["received_on"]
        missing += [
            f"responses[{i}].responded_on"
            for i, response in enumerate(entry["responses"])
            if "responded_on" not in response
        ]
        drafts.append(SeedDraft(seed.letter, entry, extraction.warnings, missing))
    return drafts


def seed_entries() -> list[dict[str, Any]]:
    """The seed letters' drafts that can become entries. A letter that prints no date of
    receipt or of response (the Met's) is left out rather than given invented dates: any date
    chosen would give a real force a deadline verdict its letter does not support."""
    return [draft.entry for draft in seed_drafts() if not draft.missing]


_FIRST = FIRST_RECEIVED.toordinal()
_RECEIVED_DAYS = LAST_RECEIVED.toordinal() - _FIRST + 1
_LAST = LAST_DATE.toordinal()
_OUTCOME_DRAW = _flat(dict(zip(OUTCOMES, _OUTCOME_WEIGHTS, strict=True)))
_COUNT_DRAW = tuple(n for n, weight in enumerate(_QUESTION_COUNTS, 1) for _ in range(weight))
_REVIEW_SHARE = 0.05
_ALIAS_SHARE = 0.08


def _weekday(ordinal: int) -> int:
    """The ordinal itself, or the Monday after it: forces date their letters on weekdays."""
    weekday = (ordinal + 6) % 7
    return ordinal + 7 - weekday if weekday >= 5 else ordinal


class _Maker:
    """Builds entries from the bank; one instance per run, so draws follow one sequence."""

    __slots__ = ("bank", "random")

    def __init__(self, bank: _Bank, rng: random.Random) -> None:
        self.bank = bank
        self.random = rng.random

    def entry(self, index: int) -> dict[str, Any]:
        bank, r = self.bank, self.random
        forces = bank.forces
        # The first entries of a run cover every force and every outcome, so the demo shows all.
        if index < len(forces):
            force = forces[index]
            outcome = OUTCOMES[index % len(OUTCOMES)]
        else:
            force = forces[bank.force_draw[int(r() * len(bank.force_draw))]]
            outcome = _OUTCOME_DRAW[int(r() * len(_OUTCOME_DRAW))]
        law = force.law
        topic_bank = bank.topics[int(r() * len(bank.topics))]
        topic = topic_bank.topic
        topics = [topic.slug]
        related = topic_bank.related
        extra = r()
        if extra < 0.45 and related:
            first = int(r() * len(related))
            topics.append(related[first])
            if extra < 0.15 and len(related) > 1:
                topics.append(related[(first + 1 + int(r() * (len(related) - 1))) % len(related)])

        received = _FIRST + int(r() * _RECEIVED_DAYS)
        iso = bank.ordinal_iso
        received_on = iso[received - _FIRST]
        year = int(received_on[:4])
        serial = SERIAL_BASE + index
        reference = force.reference.format(s=serial, y=year, yy=year % 100)
        aliases = (
            [force.alias.format(s=serial, y=year, yy=year % 100)] if r() < _ALIAS_SHARE else []
        )

        count = _COUNT_DRAW[int(r() * len(_COUNT_DRAW))]
        schemes = _QUESTION_SCHEMES[count]
        numbers = schemes[0] if r() < 0.7 else schemes[int(r() * len(schemes))]
        bank_questions = topic_bank.questions
        start = int(r() * (len(bank_questions) - 6))
        questions = [
            {"number": number, "text": text}
            for number, text in zip(numbers, bank_questions[start : start + count], strict=True)
        ]

        environmental = law == "FOIA" and topic.family == _ENVIRONMENTAL_FAMILY and r() < 0.6
        initial_on = min(
            _weekday(received + (1 + int(r() * 25) if r() < 0.88 else 26 + int(r() * 95))),
            _LAST - 2,
        )
        citations = self._citations(outcome, law, numbers, environmental=environmental)
        initial = {
            "kind": "initial",
            "responded_on": iso[initial_on - _FIRST],
            "outcome": outcome,
            "text": self._response_text(
                bank.response_openings[law, outcome], citations, bank.response_closings[law]
            ),
            "answers": self._answers(outcome, numbers, citations, topic_bank, count),
            "citations": [self._citation(c, questions) for c, questions in citations],
            "signatory": self._signatory(_INITIAL_ROLES),
        }
        responses = [initial]
        last = initial_on
        if r() < _REVIEW_SHARE:
            last = min(_weekday(initial_on + 20 + int(r() * 40)), _LAST - 1)
            responses.append(self._review(law, initial, citations, numbers, iso[last - _FIRST]))

        return {
            "force": force.id,
            "reference": reference,
            "aliases": aliases,
            "title": topic_bank.titles[int(r() * len(topic_bank.titles))],
            "topics": topics,
            "received_on": received_on,
            "published_at": iso[min(last + 1 + int(r() * 13), _LAST) - _FIRST]
            + bank.times[int(r() * len(bank.times))],
            "request": {"text": self._request_text(law, topic_bank, index), "questions": questions},
            "responses": responses,
        }

    def _request_text(self, law: str, topic_bank: _TopicBank, index: int) -> str:
        bank, r = self.bank, self.random
        places = bank.places
        # n ** r() is log-uniform over 1..n: a Zipf-like spread, so a few places recur often and
        # most are rare, as they would in a real log.
        place = places[int(len(places) ** r()) - 1]
        openings = bank.openings[law]
        opening = openings[int(r() * len(openings))].format(
            subject=topic_bank.topic.subject, place=place
        )
        pieces = [opening]
        words = _words(opening)
        for phrase, period in RARE_PHRASES.items():
            if index % period == period // 2:
                rare = f"Please include any records that mention {phrase}."
                pieces.append(rare)
                words += _words(rare)
        closing, closing_words = bank.request_closings[int(r() * len(bank.request_closings))]
        words += closing_words
        low, span = bank.request_span
        target = low + int(r() * span)
        sentences, fillers = topic_bank.sentences, bank.request_fillers
        while words < target:
            if r() < 0.4:
                text, size = sentences[int(r() * len(sentences))]
            else:
                text, size = fillers[int(r() * len(fillers))]
            pieces.append(text)
            words += size
        pieces.append(closing)
        return " ".join(pieces)

    def _response_text(
        self,
        openings: tuple[tuple[str, int], ...],
        citations: list[tuple[_Citable, list[str]]],
        closings: tuple[tuple[str, int], ...],
    ) -> str:
        bank, r = self.bank, self.random
        opening, words = openings[int(r() * len(openings))]
        closing, closing_words = closings[int(r() * len(closings))]
        pieces = [opening]
        for citable, _ in citations:
            pieces.append(citable.paragraph)
            words += citable.words
        words += closing_words
        low, span = bank.response_span
        target = low + int(r() * span)
        fillers = bank.response_fillers
        while words < target:
            text, size = fillers[int(r() * len(fillers))]
            pieces.append(text)
            words += size
        pieces.append(closing)
        return " ".join(pieces)

    def _citations(
        self, outcome: str, law: str, numbers: tuple[str, ...], *, environmental: bool
    ) -> list[tuple[_Citable, list[str]]]:
        """What the response cites and the questions each citation covers. Environmental
        information is withheld under the EIR, but cost and vexatiousness stay FOIA grounds."""
        bank, r = self.bank, self.random
        exceptions = "EIR" if environmental else law
        if outcome in ("partially_disclosed", "refused"):
            pool = bank.withhold[exceptions]
            wanted = 1 if (x := r()) < 0.65 else 2 if x < 0.92 else 3
            covered = list(numbers[len(numbers) - self._withheld(len(numbers)) :])
            if outcome == "refused":
                covered = list(numbers)
        elif outcome == "neither_confirm_nor_deny":
            pool = bank.ncnd[exceptions]
            wanted = 1 if r() < 0.6 else 2
            covered = list(numbers)
        else:
            procedural = bank.procedural.get((outcome, law))
            if procedural is None:
                return []
            return [(procedural[int(r() * len(procedural))], [])]
        chosen: list[tuple[_Citable, list[str]]] = []
        if law == "FOISA" and outcome == "neither_confirm_nor_deny":
            chosen.append((bank.section_18, list(covered)))
        seen = set()
        for _ in range(wanted):
            citable = pool[int(r() * len(pool))]
            if citable.exemption not in seen:
                seen.add(citable.exemption)
                chosen.append((citable, list(covered)))
        return chosen

    def _withheld(self, count: int) -> int:
        """How many trailing questions a partial disclosure withholds: at least one, and one
        fewer than all when there is more than one, so something is always disclosed."""
        return 1 if count == 1 else 1 + int(self.random() * (count - 1))

    def _citation(self, citable: _Citable, questions: list[str]) -> dict[str, Any]:
        r = self.random
        public_interest = None
        if citable.category is not None:
            reasons_for = _PUBLIC_INTEREST_FOR
            start = int(r() * len(reasons_for))
            against = _PUBLIC_INTEREST_AGAINST[citable.category]
            balance = _PUBLIC_INTEREST_BALANCE[citable.category]
            first = int(r() * len(against))
            public_interest = {
                "for": [reasons_for[start], reasons_for[(start + 3) % len(reasons_for)]],
                "against": [against[first]]
                if r() < 0.5
                else [against[first], against[(first + 1) % len(against)]],
                "balance": balance[int(r() * len(balance))],
            }
        return {
            "exemption": citable.exemption,
            "provision": citable.provision,
            "ncnd": citable.ncnd,
            "questions": questions,
            "public_interest": public_interest,
            "harm": _HARM[int(r() * len(_HARM))] if citable.harm else None,
        }

    def _answers(
        self,
        outcome: str,
        numbers: tuple[str, ...],
        citations: list[tuple[_Citable, list[str]]],
        topic_bank: _TopicBank,
        count: int,
    ) -> list[dict[str, Any]]:
        r = self.random
        if outcome in ("disclosed_in_full", "partially_disclosed"):
            answers = topic_bank.answers
            start = int(r() * (len(answers) - 6))
            withheld = citations[-1][1] if outcome == "partially_disclosed" else []
            disclosed = numbers[: count - len(withheld)]
            result: list[dict[str, Any]] = [
                {"questions": [number], "text": text}
                for number, text in zip(disclosed, answers[start : start + count], strict=False)
            ]
            if withheld:
                citable = citations[-1][0]
                template = _WITHHELD_ANSWERS[int(r() * len(_WITHHELD_ANSWERS))]
                rule = "regulation" if citable.exemption.startswith("eir-") else "section"
                result.append(
                    {
                        "questions": list(withheld),
                        "text": template.format(rule=rule, provision=citable.provision),
                    }
                )
            return result
        texts = _OUTCOME_ANSWERS[outcome]
        return [{"questions": list(numbers), "text": texts[int(r() * len(texts))]}]

    def _signatory(self, roles: tuple[str, ...]) -> dict[str, Any]:
        r = self.random
        return {
            "name": f"{_FIRST_NAMES[int(r() * len(_FIRST_NAMES))]} "
            f"{_SURNAMES[int(r() * len(_SURNAMES))]}",
            "role": roles[int(r() * len(roles))],
        }

    def _review(
        self,
        law: str,
        initial: dict[str, Any],
        citations: list[tuple[_Citable, list[str]]],
        numbers: tuple[str, ...],
        responded_on: str,
    ) -> dict[str, Any]:
        """An internal review: it upholds the initial response or releases more."""
        bank, r = self.bank, self.random
        outcome = initial["outcome"]
        if outcome == "refused" and r() < 0.4:
            outcome, verdict = "partially_disclosed", "partially_disclosed"
        elif outcome == "partially_disclosed" and r() < 0.4:
            outcome, verdict, citations = "disclosed_in_full", "disclosed_in_full", []
        else:
            verdict = "upheld"
        return {
            "kind": "internal_review",
            "responded_on": responded_on,
            "outcome": outcome,
            "text": self._response_text(
                bank.review_openings["upheld" if verdict == "upheld" else "varied"],
                citations,
                bank.review_closings[law],
            ),
            "answers": [{"questions": list(numbers), "text": _REVIEW_ANSWERS[verdict]}],
            "citations": [self._citation(c, list(questions)) for c, questions in citations],
            "signatory": self._signatory(_REVIEW_ROLES),
        }


def generate_entries(
    count: int, *, seed: int = 0, start_index: int = 0
) -> Iterator[dict[str, Any]]:
    """`count` entry documents (SPEC §7 import format), the same for the same arguments.

    References come from the entry index, so runs with disjoint index ranges never share a
    (force, reference); `start_index` also feeds the random seed, so such runs differ in content
    too rather than repeating the same texts under new references.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if start_index < 0:
        raise ValueError("start_index must not be negative")
    maker = _Maker(_bank(), random.Random(f"foilog-demo/{seed}/{start_index}"))  # noqa: S311
    entry = maker.entry
    for index in range(start_index, start_index + count):
        yield entry(index)


# The round-robins the demo shows: how many forces each request went to.
ROUND_ROBINS = (12, 8, 5)
# Their entries' indexes start here, past any generated entry's, so references never clash.
_ROUND_ROBIN_INDEX = 10_000_000
_ROUND_ROBIN_LATEST = "2026-03-01"


def round_robin_entries() -> Iterator[dict[str, Any]]:
    """Requests sent to several forces at once, as round-robins are, so the demo has groups to
    link (SPEC §12): each copy greets its force by name, arrives within a few days of the
    others and is that force's own answer (the same topic and questions; its own outcome,
    letter and response time), the same for every run."""
    bank = _bank()
    maker = _Maker(bank, random.Random("foilog-demo/round-robins"))  # noqa: S311
    laws = {force.id: force.law for force in bank.forces}
    names = {row["id"]: row["name"] for row in _load("forces.json")}
    english = [force for force in bank.forces if force.law == "FOIA"]
    index = _ROUND_ROBIN_INDEX

    def drawn(fits: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next generated entry answered under FOIA that `fits`."""
        nonlocal index
        while True:
            entry = maker.entry(index)
            index += 1
            if laws[entry["force"]] == "FOIA" and fits(entry):
                return entry

    for size in ROUND_ROBINS:
        # Early enough that every copy is answered and published by the demo's last day.
        source = drawn(lambda entry: entry["received_on"] < _ROUND_ROBIN_LATEST)
        fits = _answers_fit(source)
        for force in random.Random(f"foilog-demo/round-robin/{size}").sample(english, size):  # noqa: S311
            copy = _moved(drawn(fits), source["received_on"])
            year = int(copy["received_on"][:4])
            serial = SERIAL_BASE + index
            yield copy | {
                "force": force.id,
                "reference": force.reference.format(s=serial, y=year, yy=year % 100),
                "aliases": [],
                "title": source["title"],
                "topics": source["topics"],
                "request": {
                    "text": f"Dear {names[force.id]},\n\n{source['request']['text']}",
                    "questions": source["request"]["questions"],
                },
            }


def _moved(entry: dict[str, Any], near: str) -> dict[str, Any]:
    """The entry with every date moved by the whole weeks that bring its receipt within three
    days of `near`: working days stay working days, and its response time stays its own."""
    days = (date.fromisoformat(near) - date.fromisoformat(entry["received_on"])).days
    shift = timedelta(days=7 * round(days / 7))

    def moved(iso: str) -> str:
        return (date.fromisoformat(iso[:10]) + shift).isoformat() + iso[10:]

    return entry | {
        "received_on": moved(entry["received_on"]),
        "published_at": moved(entry["published_at"]),
        "responses": [
            response | {"responded_on": moved(response["responded_on"])}
            for response in entry["responses"]
        ],
    }


def _answers_fit(source: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """Whether an entry's answers fit the questions of `source`: the same topic, the same
    question numbers."""
    topic, numbers = source["topics"][0], _numbers(source)
    return lambda entry: entry["topics"][0] == topic and _numbers(entry) == numbers


def _numbers(entry: dict[str, Any]) -> list[str]:
    return [question["number"] for question in entry["request"]["questions"]]


def demo_entries(count: int = 300, *, seeds: bool = True) -> Iterator[dict[str, Any]]:
    """The real seed letters that print their dates (see `seed_entries`), then `count`
    generated entries."""
    if seeds:
        yield from seed_entries()
    yield from generate_entries(count)
