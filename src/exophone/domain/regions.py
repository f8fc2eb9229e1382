"""Regions of numbers: India's telecom circles, and the country itself elsewhere.

India is divided into 22 telecom circles (service areas); Exotel's ``InRegion``
filter uses their two-letter codes. A landline number carries the STD (area)
code of its city, so each circle lists the STD codes of its major cities,
written without the trunk prefix ``0`` (Delhi ``011`` is ``"11"``).

Only STD codes whose numbers phonenumbers classifies as plain FIXED_LINE are
listed. phonenumbers classifies most numbers under STD codes beginning with 7
or 8 (Raipur 771, Kota 744, Amravati 721, Gulbarga 8472, ...) as
FIXED_LINE_OR_MOBILE because India's mobile ranges cover the same digits, so
those cities are left out: an Indian landline should never look like a mobile.

Every other country has a single region, its own ISO 3166-1 code (the
reference lists a Malaysian number with ``"region": "MY"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pycountry

INDIA = "IN"


@dataclass(frozen=True, slots=True)
class Circle:
    """An Indian telecom circle: code as in ``InRegion``, English name, cities' STD codes."""

    code: str
    name: str
    std_codes: tuple[str, ...]


# code, name, ((STD code, city), ...). The first city is the circle's main one.
_CIRCLES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "AP",
        "Andhra Pradesh",
        (
            ("40", "Hyderabad"),
            ("891", "Visakhapatnam"),
            ("866", "Vijayawada"),
            ("863", "Guntur"),
            ("877", "Tirupati"),
            ("870", "Warangal"),
            ("861", "Nellore"),
            ("883", "Rajahmundry"),
            ("884", "Kakinada"),
        ),
    ),
    (
        "AS",
        "Assam",
        (
            ("361", "Guwahati"),
            ("373", "Dibrugarh"),
            ("376", "Jorhat"),
            ("3842", "Silchar"),
            ("3712", "Tezpur"),
            ("3672", "Nagaon"),
        ),
    ),
    (
        "BR",
        "Bihar",
        (
            ("612", "Patna"),
            ("631", "Gaya"),
            ("641", "Bhagalpur"),
            ("621", "Muzaffarpur"),
            ("6272", "Darbhanga"),
            ("651", "Ranchi"),
            ("657", "Jamshedpur"),
            ("326", "Dhanbad"),
        ),
    ),
    (
        "DL",
        "Delhi",
        (
            ("11", "Delhi"),
            ("124", "Gurugram"),
            ("120", "Noida and Ghaziabad"),
            ("129", "Faridabad"),
        ),
    ),
    (
        "GJ",
        "Gujarat",
        (
            ("79", "Ahmedabad"),
            ("261", "Surat"),
            ("265", "Vadodara"),
            ("281", "Rajkot"),
            ("278", "Bhavnagar"),
            ("288", "Jamnagar"),
            ("2692", "Anand"),
        ),
    ),
    (
        "HP",
        "Himachal Pradesh",
        (
            ("177", "Shimla"),
            ("1892", "Dharamshala"),
            ("1905", "Mandi"),
            ("1792", "Solan"),
            ("1902", "Kullu"),
            ("1972", "Hamirpur"),
        ),
    ),
    (
        "HR",
        "Haryana",
        (
            ("171", "Ambala"),
            ("180", "Panipat"),
            ("184", "Karnal"),
            ("1662", "Hisar"),
            ("1262", "Rohtak"),
            ("130", "Sonipat"),
            ("1744", "Kurukshetra"),
            ("1732", "Yamunanagar"),
        ),
    ),
    (
        "JK",
        "Jammu & Kashmir",
        (
            ("194", "Srinagar"),
            ("191", "Jammu"),
            ("1982", "Leh"),
            ("1932", "Anantnag"),
            ("1992", "Udhampur"),
            ("1952", "Baramulla"),
        ),
    ),
    (
        "KA",
        "Karnataka",
        (
            ("80", "Bengaluru"),
            ("821", "Mysuru"),
            ("824", "Mangaluru"),
            ("836", "Hubballi-Dharwad"),
            ("831", "Belagavi"),
            ("816", "Tumakuru"),
            ("820", "Udupi"),
        ),
    ),
    (
        "KL",
        "Kerala",
        (
            ("471", "Thiruvananthapuram"),
            ("484", "Kochi"),
            ("495", "Kozhikode"),
            ("487", "Thrissur"),
            ("474", "Kollam"),
            ("497", "Kannur"),
            ("491", "Palakkad"),
            ("481", "Kottayam"),
        ),
    ),
    ("KO", "Kolkata", (("33", "Kolkata"),)),
    (
        "MH",
        "Maharashtra",
        (
            ("20", "Pune"),
            ("712", "Nagpur"),
            ("253", "Nashik"),
            ("240", "Aurangabad"),
            ("217", "Solapur"),
            ("231", "Kolhapur"),
            ("233", "Sangli"),
            ("257", "Jalgaon"),
            ("241", "Ahmednagar"),
            ("2462", "Nanded"),
            ("832", "Panaji"),
        ),
    ),
    (
        "MP",
        "Madhya Pradesh",
        (
            ("755", "Bhopal"),
            ("731", "Indore"),
            ("761", "Jabalpur"),
            ("751", "Gwalior"),
            ("734", "Ujjain"),
            ("788", "Durg-Bhilai"),
        ),
    ),
    ("MU", "Mumbai", (("22", "Mumbai"), ("251", "Kalyan"))),
    (
        "NE",
        "North East",
        (
            ("364", "Shillong"),
            ("381", "Agartala"),
            ("385", "Imphal"),
            ("389", "Aizawl"),
            ("370", "Kohima"),
            ("360", "Itanagar"),
            ("3862", "Dimapur"),
        ),
    ),
    (
        "OR",
        "Odisha",
        (
            ("674", "Bhubaneswar"),
            ("671", "Cuttack"),
            ("661", "Rourkela"),
            ("680", "Berhampur"),
            ("663", "Sambalpur"),
            ("6752", "Puri"),
            ("6782", "Balasore"),
        ),
    ),
    (
        "PB",
        "Punjab",
        (
            ("172", "Chandigarh"),
            ("161", "Ludhiana"),
            ("183", "Amritsar"),
            ("181", "Jalandhar"),
            ("175", "Patiala"),
            ("164", "Bathinda"),
            ("186", "Pathankot"),
        ),
    ),
    (
        "RJ",
        "Rajasthan",
        (
            ("141", "Jaipur"),
            ("291", "Jodhpur"),
            ("294", "Udaipur"),
            ("145", "Ajmer"),
            ("151", "Bikaner"),
            ("144", "Alwar"),
            ("1482", "Bhilwara"),
            ("1572", "Sikar"),
            ("154", "Sri Ganganagar"),
        ),
    ),
    (
        "TN",
        "Tamil Nadu",
        (
            ("44", "Chennai"),
            ("422", "Coimbatore"),
            ("452", "Madurai"),
            ("431", "Tiruchirappalli"),
            ("427", "Salem"),
            ("462", "Tirunelveli"),
            ("416", "Vellore"),
            ("424", "Erode"),
            ("413", "Puducherry"),
        ),
    ),
    (
        "UE",
        "UP East",
        (
            ("522", "Lucknow"),
            ("512", "Kanpur"),
            ("542", "Varanasi"),
            ("532", "Prayagraj"),
            ("551", "Gorakhpur"),
            ("5278", "Ayodhya"),
        ),
    ),
    (
        "UW",
        "UP West",
        (
            ("562", "Agra"),
            ("121", "Meerut"),
            ("571", "Aligarh"),
            ("591", "Moradabad"),
            ("581", "Bareilly"),
            ("132", "Saharanpur"),
            ("565", "Mathura"),
            ("135", "Dehradun"),
            ("1334", "Haridwar"),
        ),
    ),
    (
        "WB",
        "West Bengal",
        (
            ("353", "Siliguri"),
            ("343", "Durgapur"),
            ("341", "Asansol"),
            ("342", "Bardhaman"),
            ("3222", "Kharagpur"),
            ("354", "Darjeeling"),
            ("3592", "Gangtok"),
            ("3192", "Port Blair"),
        ),
    ),
)

IN_CIRCLES: dict[str, Circle] = {
    code: Circle(code, name, tuple(std for std, _ in cities)) for code, name, cities in _CIRCLES
}
"""The 22 circles by code, in alphabetical order of code."""

STD_CITIES: dict[str, str] = {std: city for _, _, cities in _CIRCLES for std, city in cities}
"""City (or cities) of each listed STD code."""

IN_CIRCLE_CODES: tuple[str, ...] = tuple(IN_CIRCLES)

REFERENCE_IN_REGIONS: tuple[str, ...] = (
    "AP",
    "DL",
    "KA",
    "KL",
    "MH",
    "MP",
    "MU",
    "RJ",
    "TN",
    "WB",
)
"""The circles the reference lists as "currently supported" for ``InRegion``."""


def region_codes(country: str) -> tuple[str, ...]:
    """The region codes numbers of ``country`` can have.

    India: the 22 circle codes. Any other country: the country's own code
    (upper-cased), whether or not phonenumbers knows it.
    """
    code = country.strip().upper()
    if code == INDIA:
        return IN_CIRCLE_CODES
    return (code,)


def circle_of_landline(national: str) -> str | None:
    """The circle of an Indian landline from its STD code (longest match), if we know it."""
    for length in (4, 3, 2):
        circle = _STD_CIRCLE.get(national[:length])
        if circle is not None:
            return circle
    return None


_STD_CIRCLE: dict[str, str] = {
    std: code for code, _, cities in _CIRCLES for std, _ in cities
}  # fmt: skip


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """The English short name of a country, from the ISO 3166 data pycountry maintains."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)
