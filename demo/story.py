"""What was said and agreed at the demo councils' six past meetings: per meeting, per child, the
entries and decisions in the minutes, the agreed actions and how they were followed up.

Everything here is fictitious. A child may appear in a meeting's story only if it is on that
meeting's agenda: put there with a brief (meetings/demo.py) or back by itself because an action
agreed earlier is still open. Children on an agenda without a story get a short follow-up
decision from the chair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from coordination.models import AgencyKind
from demo.coordination import COORDINATOR, HEALTH, LEISURE, LSS, POLICE, SCHOOL, SECRETARY
from minutes.models import ActionStatus, EntryKind, NotDoneReason


@dataclass(frozen=True)
class Note:
    """An entry (or decision) in the minutes, shared with the attending agencies the engine
    allows; ``share_with`` limits the agencies asked, ``bases`` the bases tried for one."""

    author: str  # e-mail
    category: str
    text: str
    kind: EntryKind = EntryKind.ENTRY
    share_with: tuple[AgencyKind, ...] | None = None
    bases: Mapping[AgencyKind, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """A follow-up of an action, taken after the past meeting with index ``after``."""

    after: int
    actor: str  # e-mail
    status: ActionStatus
    comment: str
    reason: NotDoneReason | None = None


@dataclass(frozen=True)
class Action:
    creator: str  # e-mail
    responsible: str  # e-mail; the responsible agency is theirs
    text: str
    due_in: int  # days after the meeting that agreed it
    steps: tuple[Step, ...] = ()


Beat = tuple[Note | Action, ...]

POLICE_KIND = AgencyKind.POLICE
SCHOOL_KIND = AgencyKind.SCHOOL
LEISURE_KIND = AgencyKind.LEISURE
HEALTH_KIND = AgencyKind.HEALTHCARE


Bases = Mapping[AgencyKind, tuple[str, ...]]


def _note(
    author: str,
    text: str,
    category: str,
    share_with: tuple[AgencyKind, ...] | None,
    bases: Bases | None,
) -> Note:
    return Note(author, category, text, share_with=share_with, bases=bases or {})


def soc(
    text: str,
    category: str = "social_measures",
    share_with: tuple[AgencyKind, ...] | None = None,
) -> Note:
    return _note(SECRETARY, text, category, share_with, None)


def pol(text: str, category: str = "crime_police") -> Note:
    return _note(POLICE, text, category, None, None)


def school(text: str, bases: Bases | None = None) -> Note:
    return _note(SCHOOL, text, "school", None, bases)


def leisure(text: str) -> Note:
    return Note(LEISURE, "leisure", text)


def lss(text: str) -> Note:
    return Note(LSS, "social_measures", text)


def health(text: str) -> Note:
    return Note(HEALTH, "health", text)


def decision(text: str) -> Note:
    return Note(COORDINATOR, "meeting_note", text, EntryKind.DECISION)


def started(after: int, actor: str, comment: str) -> Step:
    return Step(after, actor, ActionStatus.IN_PROGRESS, comment)


def done(after: int, actor: str, comment: str) -> Step:
    return Step(after, actor, ActionStatus.DONE, comment)


def not_done(after: int, actor: str, comment: str, reason: NotDoneReason) -> Step:
    return Step(after, actor, ActionStatus.NOT_DONE, comment, reason)


def cancelled(after: int, comment: str) -> Step:
    return Step(after, COORDINATOR, ActionStatus.CANCELLED, comment)


# The chair's note for a child who is back only because of open actions.
FOLLOW_UPS = (
    "Överenskomna åtgärder följdes upp. Ansvariga rapporterade läget; inget nytt att besluta.",
    "Åtgärderna pågår enligt plan. Ärendet tas upp igen vid nästa möte.",
    "Läget är oförändrat. Ansvariga myndigheter fortsätter med pågående åtgärder.",
)

# Who approves the minutes with the chair (the coordinator), per council.
ADJUSTERS = {"CENTRUM": POLICE, "NORR": SCHOOL, "SIG": LSS}

# council code -> per past meeting (oldest first) -> child key -> what was said and agreed.
STORY: dict[str, list[dict[str, Beat]]] = {
    "CENTRUM": [
        {
            "elias": (
                soc(
                    "Socialtjänsten har inlett utredning efter skolans orosanmälan. Mamman "
                    "beskriver att den unge ofta är ute sent och har nya, äldre kompisar.",
                    "risk_protective",
                ),
                pol(
                    "Den unge har kontrollerats två gånger vid Stationsområdet sent på kvällen "
                    "tillsammans med personer som polisen följer. Inga misstankar om brott."
                ),
                decision(
                    "Den unge följs upp i Bob-rådet. Socialtjänsten och polisen samordnar "
                    "kontakten med familjen så att den får ett gemensamt budskap."
                ),
                Action(
                    POLICE,
                    POLICE,
                    "Polisen kontaktar vårdnadshavare om oro kring sena kvällar vid "
                    "Stationsområdet.",
                    21,
                    (
                        started(1, POLICE, "Kontakt tagen med mamman per telefon; hembesök bokat."),
                        done(
                            2,
                            POLICE,
                            "Hembesök genomfört tillsammans med socialsekreteraren. Mamman vill "
                            "ha fortsatt kontakt.",
                        ),
                    ),
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten erbjuder familjen samtal med familjebehandlare.",
                    35,
                    (
                        started(1, SECRETARY, "Första samtalet är genomfört."),
                        done(3, SECRETARY, "Familjen går nu på samtal varannan vecka."),
                    ),
                ),
            ),
            "noah": (
                pol(
                    "Den unge är misstänkt för ringa narkotikabrott efter en kontroll i Ekparken. "
                    "Ärendet ligger hos åklagare."
                ),
                soc(
                    "Den unge har haft kontaktperson i ett år. Han säger själv att han vill byta "
                    "umgänge och komma tillbaka till skolan."
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten bjuder in den unge och mamman till samtal om stödet när han "
                    "fyller 18.",
                    28,
                    (
                        done(
                            1,
                            SECRETARY,
                            "Samtal genomfört; den unge vill behålla sin kontaktperson.",
                        ),
                    ),
                ),
                Action(
                    SECRETARY,
                    POLICE,
                    "Polisen bjuder in den unge till samtal med ungdomspolisen om vägar ut ur "
                    "umgänget.",
                    14,
                    (
                        not_done(
                            4,
                            POLICE,
                            "Den unge har fyllt 18 och tackar nej till samtal med polisen.",
                            NotDoneReason.CIRCUMSTANCES_CHANGED,
                        ),
                    ),
                ),
            ),
        },
        {
            "elias": (
                soc(
                    "Första samtalet med familjebehandlaren är genomfört. Den unge var med och var "
                    "mer öppen än väntat."
                ),
            ),
            "noah": (
                pol(
                    "Ungdomspolisen har sökt den unge två gånger utan svar. Ny kontakt tas via "
                    "kontaktpersonen.",
                    "meeting_note",
                ),
            ),
            "liam": (
                soc(
                    "Mamman har svårt att få den unge till skolan på morgnarna och vill ha stöd.",
                    "family",
                ),
                pol(
                    "Den unge har setts i centrum under skoltid tillsammans med en annan ung "
                    "person från forumet och två äldre "
                    "ungdomar. Inga brott är kända."
                ),
                Action(
                    POLICE,
                    POLICE,
                    "Polisen genomför ett orossamtal med den unge och vårdnadshavare.",
                    40,
                    (
                        started(2, POLICE, "Orossamtalet är bokat; mamman har tackat ja."),
                        done(
                            3, POLICE, "Orossamtalet är genomfört. Den unge vill börja träna igen."
                        ),
                    ),
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten utreder behovet av stöd i hemmet och samordnar med skolan.",
                    50,
                    (started(3, SECRETARY, "Utredningen är inledd."),),
                ),
            ),
            "wilma": (
                pol(
                    "Hoten kommer från ett konto som polisen kopplar till en äldre pojke i "
                    "Norrby. Anmälan om olaga hot är upprättad.",
                    "threat_protection",
                ),
                soc(
                    "Den unge har stöd av mamman och av sin tränare i handbollsklubben. Hon vill "
                    "inte byta skola.",
                    "risk_protective",
                ),
                Action(
                    POLICE,
                    POLICE,
                    "Polisen gör en hotbildsbedömning och informerar den unge och mamman om "
                    "resultatet.",
                    10,
                    (
                        done(
                            2,
                            POLICE,
                            "Hotbildsbedömningen är klar: låg hotnivå. Familjen är informerad.",
                        ),
                    ),
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten erbjuder den unge stödsamtal på ungdomsmottagningen.",
                    60,
                    (
                        cancelled(
                            3,
                            "Den unge får stödsamtal hos skolkuratorn i stället; åtgärden behövs "
                            "inte.",
                        ),
                    ),
                ),
            ),
        },
        {
            "elias": (
                pol("Inga nya kontroller av den unge sedan förra mötet.", "meeting_note"),
                soc(
                    "Den unge går på Fritidsgården Kometen två kvällar i veckan. Skolan "
                    "rapporterar "
                    "bättre närvaro.",
                    "risk_protective",
                ),
                decision(
                    "Positiv utveckling. Den unge tas upp igen om tre månader, eller tidigare vid "
                    "ny oro."
                ),
            ),
            "noah": (
                soc(
                    "Den unge fyller 18 inom några månader. Kontaktpersonen kan fortsätta som "
                    "frivillig insats om den unge vill."
                ),
            ),
            "liam": (
                soc(
                    "Mamman har tackat ja till stöd i hemmet. Den unge var hemma från skolan tre "
                    "dagar förra veckan.",
                    "family",
                ),
            ),
            "wilma": (pol("Inga nya hot har kommit in. Kontot är avstängt.", "threat_protection"),),
        },
        {
            "noah": (
                soc(
                    "Kontaktpersonen träffar den unge varje vecka. Den unge har sökt ett "
                    "extrajobb via "
                    "kommunen."
                ),
                pol("Åklagaren har lagt ned förundersökningen om narkotikabrott."),
                decision(
                    "Samverkan kring den unge fortsätter med stöd av 10 kap. 18 a § OSL så länge "
                    "han är under 21 år."
                ),
            ),
            "liam": (
                pol(
                    "Orossamtalet är genomfört; den unge och mamman var båda med.",
                    "meeting_note",
                ),
            ),
        },
        {
            "wilma": (
                soc(
                    "Den unge går i skolan varje dag och tränar handboll tre gånger i veckan.",
                    "risk_protective",
                ),
                decision(
                    "Den unges ärende avslutas i Bob-rådet om inget nytt kommer fram före nästa "
                    "möte."
                ),
            ),
            "liam": (
                pol(
                    "Den unge var på plats när ett rån begicks vid Torget men är inte misstänkt. "
                    "Polisen bedömer att han riskerar att dras in i en grupp som begår brott."
                ),
                soc(
                    "Stödet i hemmet har börjat. Mamman ser att den unge är mer hemma på "
                    "kvällarna.",
                    "family",
                ),
                Action(
                    SECRETARY,
                    POLICE,
                    "Polisen och socialtjänsten gör ett gemensamt hembesök hos familjen.",
                    7,
                    (started(4, POLICE, "Hembesöket är bokat till nästa vecka."),),
                ),
            ),
            "noah": (
                pol(
                    "Den unge har fyllt 18 och vill inte längre träffa ungdomspolisen.",
                    "meeting_note",
                ),
            ),
        },
        {
            "elias": (
                pol(
                    "Den unge har setts två gånger vid Stationsområdet efter klockan 23, med samma "
                    "grupp som tidigare."
                ),
                soc(
                    "Familjebehandlingen fortsätter. Mamman har svårt att sätta gränser när "
                    "den unge kommer hem sent.",
                    "risk_protective",
                ),
                decision(
                    "Polisen och socialtjänsten träffar den unge tillsammans. Frågan om "
                    "kontaktperson tas upp med familjen."
                ),
                Action(
                    POLICE,
                    POLICE,
                    "Polisen kontaktar vårdnadshavare om den unges sena kvällar vid "
                    "Stationsområdet.",
                    0,
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten föreslår familjen en kontaktperson för den unge.",
                    21,
                    (started(5, SECRETARY, "Familjen har tackat ja; matchning pågår."),),
                ),
            ),
            "liam": (soc("Det gemensamma hembesöket är bokat till nästa vecka.", "meeting_note"),),
        },
    ],
    "NORR": [
        {
            "alva": (
                school(
                    "Frånvaron är 30 % den senaste månaden, mest måndagar och fredagar. "
                    "Elevhälsan är inkopplad."
                ),
                leisure(
                    "Den unge kommer till Kometen två kvällar i veckan och trivs i musikstudion."
                ),
                soc(
                    "Socialtjänsten har ingen pågående insats. Mamman har själv hört av sig och "
                    "vill ha stöd."
                ),
                decision(
                    "Skolan och fritidsgården samarbetar kring den unges närvaro. Socialtjänsten "
                    "erbjuder föräldrastöd."
                ),
                Action(
                    SCHOOL,
                    SCHOOL,
                    "Skolan tar fram en plan för anpassad studiegång tillsammans med den unge och "
                    "mamman.",
                    14,
                    (
                        started(1, SCHOOL, "Planen är påbörjad; möte med mamman nästa vecka."),
                        done(2, SCHOOL, "Planen är klar och följs upp av mentor varje vecka."),
                    ),
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten erbjuder mamman föräldrastödsprogrammet ABC.",
                    30,
                    (done(2, SECRETARY, "Mamman går i föräldragrupp på torsdagar."),),
                ),
            ),
            "malte": (
                school(
                    "Rektor har samtalat med vårdnadshavaren. Ingen kniv hittades vid kontroll, "
                    "men flera elever är oroliga.",
                    bases={POLICE_KIND: ("duty-to-police",)},
                ),
                pol(
                    "Polisen har uppgifter om att äldre ungdomar i Norrby låter yngre barn "
                    "förvara vapen. Den unge finns inte i polisens register."
                ),
                soc(
                    "Socialtjänsten har tagit emot skolans orosanmälan och gör en "
                    "förhandsbedömning."
                ),
                Action(
                    POLICE,
                    POLICE,
                    "Polisen kontaktar vårdnadshavare om oro för att den unge utnyttjas av äldre "
                    "ungdomar.",
                    21,
                    (done(1, POLICE, "Samtal med mamman är genomfört; hon samarbetar."),),
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten utreder den unges behov av stöd.",
                    45,
                    (started(2, SECRETARY, "Utredningen är inledd."),),
                ),
            ),
        },
        {
            "hugo": (
                school(
                    "Den unge har varit inblandad i fyra konflikter på rasterna. Han fungerar bra "
                    "i "
                    "mindre grupp."
                ),
                leisure(
                    "Den unge har börjat på fredagsfotbollen i idrottshallen och kommer varje "
                    "vecka."
                ),
                pol("Polisen har inga uppgifter om den unge.", "meeting_note"),
                decision(
                    "Skolan ordnar rastaktiviteter. Fritidsgården bjuder in den unge till lovets "
                    "aktiviteter."
                ),
                Action(
                    SCHOOL,
                    SCHOOL,
                    "Skolan ordnar rastaktiviteter med en vuxen för den unges klass.",
                    20,
                    (done(3, SCHOOL, "Rastaktiviteterna pågår varje dag; färre konflikter."),),
                ),
                Action(
                    COORDINATOR,
                    LEISURE,
                    "Fritidsgården bjuder in den unge och en kompis till lovets aktiviteter.",
                    25,
                    (done(2, LEISURE, "Den unge var med tre av fem dagar."),),
                ),
            ),
            "saga": (
                soc(
                    "Den unge och mamman går på samtal varannan vecka. Den unge vill hitta något "
                    "att "
                    "göra på kvällarna."
                ),
                leisure(
                    "Den unge har varit på Kometen en gång och var intresserad av dansgruppen."
                ),
                school("Den unge har god närvaro men har tappat i flera ämnen."),
                Action(
                    LEISURE,
                    LEISURE,
                    "Fritidsgården Kometen bjuder in den unge till dansgruppen och följer upp "
                    "efter "
                    "två veckor.",
                    15,
                    (
                        started(2, LEISURE, "Den unge har varit på två träningar."),
                        done(
                            4,
                            LEISURE,
                            "Den unge dansar varje tisdag och hjälper till med de yngre.",
                        ),
                    ),
                ),
            ),
            "alva": (school("Närvaron har ökat något sedan planen började."),),
        },
        {
            "malte": (
                soc(
                    "Utredningen är inledd. Mormor är en viktig skyddsfaktor; den unge sover hos "
                    "henne ibland.",
                    "risk_protective",
                ),
                school(
                    "Den unge har inte haft med sig något otillåtet till skolan sedan förra mötet. "
                    "Han har fått en mentor."
                ),
                pol(
                    "Två äldre ungdomar i Norrby är misstänkta för vapenbrott. Den unge förekommer "
                    "inte i utredningen."
                ),
            ),
            "hugo": (
                school("Rastaktiviteterna har kommit igång. Den unge är med nästan varje dag."),
            ),
            "saga": (soc("Den unge har börjat i dansgruppen. Familjebehandlingen fortsätter."),),
        },
        {
            "alva": (
                school(
                    "Närvaron är nu 85 %. Den unge säger att det hjälper att ha en vuxen att gå "
                    "till "
                    "på morgonen."
                ),
                leisure(
                    "Den unge spelar i ett band på Kometen och har en spelning på nästa lovkväll."
                ),
                soc("Mamman fortsätter i föräldragruppen och tycker att den hjälper."),
                Action(
                    SCHOOL,
                    SCHOOL,
                    "Skolan följer upp den unges närvaro varje vecka och rapporterar till nästa "
                    "SSPF-möte.",
                    45,
                ),
            ),
        },
        {
            "saga": (
                school(
                    "Den unge har varning om underkänt i tre ämnen. Hon vill ha hjälp med matte "
                    "och "
                    "engelska."
                ),
                soc(
                    "Familjebehandlingen pågår. Den unge säger att hon vill bestämma mer själv "
                    "över "
                    "vad som delas om henne."
                ),
                leisure("Den unge dansar varje tisdag och hjälper till med de yngre."),
                Action(
                    SCHOOL,
                    SCHOOL,
                    "Skolan erbjuder den unge studiestöd i matte och engelska två eftermiddagar i "
                    "veckan.",
                    30,
                ),
            ),
            "malte": (
                pol(
                    "Den unge har setts två gånger med en av de misstänkta ungdomarna vid Norrby "
                    "centrum."
                ),
                soc("Utredningen fortsätter. Mamman har tackat ja till en kontaktfamilj."),
                Action(
                    POLICE,
                    POLICE,
                    "Polisen bjuder in den unge och mamman till samtal med ungdomspolisen.",
                    10,
                    (started(5, POLICE, "Samtalet är bokat."),),
                ),
                Action(
                    SCHOOL,
                    SCHOOL,
                    "Skolan utser en rastvärd som den unge kan gå till.",
                    5,
                    (done(5, SCHOOL, "En fritidspedagog är den unges rastvärd."),),
                ),
            ),
            "alva": (school("Närvaron är fortsatt över 80 %."),),
        },
        {
            "hugo": (
                soc(
                    "Föräldrarna har separerat och den unge bor varannan vecka hos var och en. "
                    "Båda "
                    "vill vara med i planeringen.",
                    "family",
                    share_with=(SCHOOL_KIND, LEISURE_KIND),
                ),
                school(
                    "Den unge har haft två konflikter den senaste månaden, jämfört med tio när han "
                    "först togs upp i SSPF."
                ),
                decision("Den unge följs upp en gång till. Därefter kan ärendet avslutas i SSPF."),
                Action(
                    SCHOOL,
                    SCHOOL,
                    "Skolan bjuder in båda föräldrarna till utvecklingssamtal.",
                    2,
                ),
                Action(
                    SECRETARY,
                    LEISURE,
                    "Fritidsgården erbjuder den unge en plats på lovets läger.",
                    30,
                    (cancelled(5, "Lägret är fullt. En ny åtgärd tas upp vid nästa möte."),),
                ),
            ),
            "saga": (school("Den unge har börjat på studiestödet två eftermiddagar i veckan."),),
            "malte": (
                school("Den unges rastvärd är på plats. Inga incidenter sedan förra mötet."),
            ),
        },
    ],
    "SIG": [
        {
            "kevin": (
                soc(
                    "Den unge bor i stödboendet och har själv sökt hjälp för att komma ur sitt "
                    "umgänge."
                ),
                pol(
                    "Den unge dömdes för ringa narkotikabrott för ett år sedan. Inga nya "
                    "misstankar."
                ),
                school(
                    "Den unge saknar fullständiga betyg från gymnasiet. Komvux kan ta emot honom."
                ),
                decision(
                    "En SIG-plan upprättas: boende, sysselsättning och avstånd till det tidigare "
                    "umgänget."
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten upprättar en individuell SIG-plan tillsammans med den unge.",
                    30,
                    (done(1, SECRETARY, "Planen är klar och den unge har skrivit under."),),
                ),
                Action(
                    SECRETARY,
                    SCHOOL,
                    "Skolan hjälper den unge att söka till Komvux.",
                    40,
                    (done(2, SCHOOL, "Den unge är antagen till Komvux."),),
                ),
            ),
            "tilde": (
                pol(
                    "Den unge är vittne i en utredning om grov misshandel i centrum. Hon har fått "
                    "hotfulla meddelanden.",
                    "threat_protection",
                ),
                soc(
                    "Den unge har egen lägenhet och arbetar deltid. Hon vill inte flytta.",
                    "risk_protective",
                ),
                Action(
                    POLICE,
                    POLICE,
                    "Polisen erbjuder den unge samtal med brottsofferstödet och går igenom "
                    "skyddsåtgärder.",
                    7,
                    (
                        done(
                            1,
                            POLICE,
                            "Samtalet är genomfört och den unge har fått ett trygghetspaket.",
                        ),
                    ),
                ),
            ),
        },
        {
            "isak": (
                lss(
                    "Den unge har kontaktperson två gånger i veckan och korttidsvistelse en helg i "
                    "månaden. Kontaktpersonen har sett att den unge får pengar via Swish från "
                    "okända "
                    "personer."
                ),
                pol(
                    "Polisen har uppgifter om att unga i Exempelstad rekryteras som "
                    "penningmålvakter. Den unge förekommer inte hos polisen."
                ),
                health("Den unge träffar skolsköterskan regelbundet och mår i perioder dåligt."),
                Action(
                    LSS,
                    LSS,
                    "LSS-handläggaren går igenom ekonomi och bankkonto med den unge och "
                    "vårdnadshavarna.",
                    14,
                    (
                        started(2, LSS, "Första genomgången är gjord."),
                        done(3, LSS, "Genomgången är klar; den unge har bytt bankkort."),
                    ),
                ),
                Action(
                    POLICE,
                    POLICE,
                    "Polisen informerar den unge och vårdnadshavarna om riskerna med att låna ut "
                    "sitt bankkonto.",
                    21,
                    (done(2, POLICE, "Informationen är lämnad vid ett hembesök."),),
                ),
            ),
            "nils": (
                health(
                    "Den unge sover dåligt och har ont i huvudet. Han har fått remiss till "
                    "ungdomsmottagningen."
                ),
                soc(
                    "Den unge bor med pappa, som vill ha råd om hur han kan hjälpa sin son.",
                    "family",
                    share_with=(HEALTH_KIND,),
                ),
                school(
                    "Den unges frånvaro är 40 %. Han klarar skolarbetet bra när han är på plats."
                ),
                Action(
                    HEALTH,
                    HEALTH,
                    "Elevhälsan bokar ett hälsosamtal med den unge och följer upp remissen.",
                    10,
                    (
                        done(
                            2,
                            HEALTH,
                            "Hälsosamtalet är genomfört; den unge har fått tid på "
                            "ungdomsmottagningen.",
                        ),
                    ),
                ),
            ),
            "kevin": (school("Den unge har sökt till Komvux och väntar på besked."),),
        },
        {
            "tilde": (
                soc(
                    "Den unge har ansökt om en annan lägenhet. Hon har ett bra stöd av sin "
                    "arbetsgivare.",
                    "risk_protective",
                ),
                pol(
                    "Hotbilden mot den unge bedöms som låg sedan den misstänkte har häktats.",
                    "threat_protection",
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten stöttar den unge i ansökan om en ny lägenhet.",
                    60,
                    (started(3, SECRETARY, "Ansökan är inskickad till bostadsbolaget."),),
                ),
            ),
            "nils": (
                health("Den unge har fått tid på ungdomsmottagningen."),
                soc(
                    "Pappan har fått råd om rutiner kring sömn och skärmtid.",
                    "family",
                    share_with=(HEALTH_KIND,),
                ),
            ),
            "isak": (lss("Kontaktpersonen har inte sett några nya överföringar."),),
        },
        {
            "kevin": (
                soc("Den unge går på Komvux tre dagar i veckan och bor kvar i stödboendet."),
                pol(
                    "Den unge har inte setts med sitt tidigare umgänge sedan förra mötet.",
                    "meeting_note",
                ),
                decision("Den unge har nått två av tre mål i SIG-planen."),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten hjälper den unge att söka ett eget förstahandskontrakt.",
                    45,
                ),
            ),
            "isak": (lss("Genomgången av ekonomin är klar och den unge har bytt bankkort."),),
        },
        {
            "nils": (
                school("Frånvaron har minskat till 15 % sedan den unge började sova bättre."),
                health("Den unge sover bättre efter kontakten med ungdomsmottagningen."),
                decision(
                    "Den unge fyller 18 snart. Samverkan kan fortsätta med hans eget samtycke om "
                    "han "
                    "vill."
                ),
                Action(
                    SECRETARY,
                    SECRETARY,
                    "Socialtjänsten frågar den unge om han vill lämna ett eget samtycke till "
                    "samverkan efter 18 år.",
                    20,
                ),
            ),
            "isak": (
                health("Den unge mår bättre och har börjat på en fritidsaktivitet."),
                leisure("Den unge går på Kometens spelkväll varje onsdag."),
                Action(
                    LEISURE,
                    LEISURE,
                    "Fritidsgården erbjuder den unge att bli hjälpledare på spelkvällen.",
                    30,
                    (
                        not_done(
                            5,
                            LEISURE,
                            "Den unge vill inte ta på sig ansvaret just nu.",
                            NotDoneReason.NOT_CARRIED_OUT,
                        ),
                    ),
                ),
            ),
        },
        {
            "tilde": (
                pol(
                    "Rättegången är avslutad och den tilltalade är dömd. Polisen bedömer att "
                    "den unge inte längre är hotad.",
                    "threat_protection",
                ),
                soc("Den unge får en ny lägenhet i Norrby från nästa månad.", "risk_protective"),
                decision(
                    "Den unges ärende avslutas i SIG efter nästa möte om inget nytt kommer fram."
                ),
            ),
            "kevin": (
                soc(
                    "Den unge står i kö för ett eget kontrakt och har fått ett extrajobb via "
                    "kommunen."
                ),
            ),
            "nils": (
                soc(
                    "Den unge har fått information om samtycke och vill fundera till nästa möte.",
                    "meeting_note",
                    share_with=(),
                ),
            ),
        },
    ],
}

# An approved entry corrected afterwards (Rättelse): (council, past meeting, child, author,
# corrected text).
AMENDMENTS = (
    (
        "CENTRUM",
        0,
        "elias",
        POLICE,
        "Rättelse: Den unge har kontrollerats tre gånger, inte två, vid Stationsområdet sent på "
        "kvällen.",
    ),
)

# SSPF Norr: Saga withdraws her consent at the end of the six months; the disclosures that
# rested on it end at once.
REVOKED_CONSENT_CHILD = "saga"
# Bob-råd Centrum: Noah's case is closed after he turned 18 and declined further contact.
CLOSED_CASE_CHILD = "noah"
