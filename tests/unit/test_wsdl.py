"""Our MM7 WSDLs/XSDs (``wsdl/``) and the schema oracle built on them (``tests/schema_oracle.py``).

Hand-written envelopes in both forms (standard REL-6-MM7-1-4 and LG U+'s REL-5-MM7-1-2) must
validate; broken ones must be rejected, and the tests show which checker (lxml, zeep) catches what.
"""

from __future__ import annotations

import pytest
import schema_oracle as oracle  # tests/ is on pythonpath (pyproject)
from lxml import etree

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS_3GPP = oracle.MM7_NAMESPACES["3gpp"]
NS_LGT = oracle.MM7_NAMESPACES["lgt"]


def envelope(ns: str, body: str, *, txid: str | None = "tx-0001", encoding: str = "utf-8") -> bytes:
    """A SOAP envelope around ``body`` (which may use the ``mm7`` prefix)."""
    header = ""
    if txid is not None:
        header = (
            f'<env:Header><mm7:TransactionID env:mustUnderstand="1">{txid}</mm7:TransactionID>'
            "</env:Header>"
        )
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<env:Envelope xmlns:env="{ENV}" xmlns:mm7="{ns}">'
        f"{header}<env:Body>{body}</env:Body></env:Envelope>"
    )
    return text.encode(encoding)


# --------------------------------------------------------------------------- 3GPP (REL-6) samples

SUBMIT_3GPP = """
<mm7:SubmitReq>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>
  <mm7:SenderIdentification>
    <mm7:VASPID>corp</mm7:VASPID>
    <mm7:VASID>news</mm7:VASID>
    <mm7:SenderAddress><mm7:ShortCode>1234</mm7:ShortCode></mm7:SenderAddress>
  </mm7:SenderIdentification>
  <mm7:Recipients>
    <mm7:To>
      <mm7:Number>01012345678</mm7:Number>
      <mm7:RFC2822Address displayOnly="true">someone@example.com</mm7:RFC2822Address>
    </mm7:To>
    <mm7:Cc><mm7:Number>01023456789</mm7:Number></mm7:Cc>
    <mm7:Bcc><mm7:RFC2822Address>hidden@example.com</mm7:RFC2822Address></mm7:Bcc>
  </mm7:Recipients>
  <mm7:ServiceCode>gold-sp33</mm7:ServiceCode>
  <mm7:LinkedID>mms00016666</mm7:LinkedID>
  <mm7:MessageClass>Informational</mm7:MessageClass>
  <mm7:TimeStamp>2024-05-01T10:00:00+09:00</mm7:TimeStamp>
  <mm7:ReplyCharging replyChargingSize="32000" replyDeadline="P3D"/>
  <mm7:EarliestDeliveryTime>2024-05-01T11:00:00+09:00</mm7:EarliestDeliveryTime>
  <mm7:ExpiryDate>P2D</mm7:ExpiryDate>
  <mm7:DeliveryReport>true</mm7:DeliveryReport>
  <mm7:ReadReply>false</mm7:ReadReply>
  <mm7:Priority>Normal</mm7:Priority>
  <mm7:Subject>News for today</mm7:Subject>
  <mm7:ChargedParty>Sender</mm7:ChargedParty>
  <mm7:ChargedPartyID>billing-1</mm7:ChargedPartyID>
  <mm7:DistributionIndicator>1</mm7:DistributionIndicator>
  <mm7:DeliveryCondition><mm7:DC>1</mm7:DC><mm7:DC>2</mm7:DC></mm7:DeliveryCondition>
  <mm7:ApplicID>app-1</mm7:ApplicID>
  <mm7:ReplyApplicID>app-2</mm7:ReplyApplicID>
  <mm7:AuxApplicInfo>aux</mm7:AuxApplicInfo>
  <mm7:ContentClass>image-basic</mm7:ContentClass>
  <mm7:DRMContent>false</mm7:DRMContent>
  <mm7:Content href="cid:content-1@example.com" allowAdaptations="true"/>
</mm7:SubmitReq>
"""

SUBMIT_3GPP_MINIMAL = """
<mm7:SubmitReq>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>
  <mm7:SenderIdentification/>
  <mm7:Recipients><mm7:To><mm7:Number>01012345678</mm7:Number></mm7:To></mm7:Recipients>
</mm7:SubmitReq>
"""

STATUS_OK = (
    "<mm7:Status><mm7:StatusCode>1000</mm7:StatusCode>"
    "<mm7:StatusText>Success</mm7:StatusText></mm7:Status>"
)

SAMPLES_3GPP = {
    "SubmitReq": SUBMIT_3GPP,
    "SubmitReq-minimal": SUBMIT_3GPP_MINIMAL,
    "SubmitRsp": f"""
<mm7:SubmitRsp>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>{STATUS_OK}<mm7:MessageID>msg-1</mm7:MessageID>
</mm7:SubmitRsp>""",
    "SubmitRsp-details": """
<mm7:SubmitRsp>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>
  <mm7:Status>
    <mm7:StatusCode>2004</mm7:StatusCode><mm7:StatusText>Too large</mm7:StatusText>
    <mm7:Details>max <b xmlns="urn:example">300 KB</b></mm7:Details>
  </mm7:Status>
</mm7:SubmitRsp>""",
    "CancelReq": """
<mm7:CancelReq>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>
  <mm7:SenderIdentification><mm7:VASPID>corp</mm7:VASPID></mm7:SenderIdentification>
  <mm7:MessageID>msg-1</mm7:MessageID>
</mm7:CancelReq>""",
    "CancelRsp": (
        f"<mm7:CancelRsp><mm7:MM7Version>6.8.0</mm7:MM7Version>{STATUS_OK}</mm7:CancelRsp>"
    ),
    "ReplaceReq": """
<mm7:ReplaceReq>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>
  <mm7:SenderIdentification><mm7:VASID>news</mm7:VASID></mm7:SenderIdentification>
  <mm7:MessageID>msg-1</mm7:MessageID>
  <mm7:ServiceCode>gold</mm7:ServiceCode>
  <mm7:TimeStamp>2024-05-01T10:00:00Z</mm7:TimeStamp>
  <mm7:ReadReply>true</mm7:ReadReply>
  <mm7:EarliestDeliveryTime>PT1H</mm7:EarliestDeliveryTime>
  <mm7:DistributionIndicator>false</mm7:DistributionIndicator>
  <mm7:Content href="cid:new-content"/>
</mm7:ReplaceReq>""",
    "ReplaceRsp": (
        f"<mm7:ReplaceRsp><mm7:MM7Version>6.8.0</mm7:MM7Version>{STATUS_OK}</mm7:ReplaceRsp>"
    ),
    "DeliverReq": """
<mm7:DeliverReq>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>
  <mm7:MMSRelayServerID>mmsc-1</mm7:MMSRelayServerID>
  <mm7:VASPID>corp</mm7:VASPID>
  <mm7:LinkedID>link-1</mm7:LinkedID>
  <mm7:Sender><mm7:Number>01012345678</mm7:Number></mm7:Sender>
  <mm7:Recipients><mm7:To><mm7:ShortCode>1234</mm7:ShortCode></mm7:To></mm7:Recipients>
  <mm7:TimeStamp>2024-05-01T10:00:00+09:00</mm7:TimeStamp>
  <mm7:Priority>High</mm7:Priority>
  <mm7:Subject>Reply</mm7:Subject>
  <mm7:Content href="cid:mo-1"/>
</mm7:DeliverReq>""",
    "DeliverRsp": f"""
<mm7:DeliverRsp>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>{STATUS_OK}<mm7:ServiceCode>free</mm7:ServiceCode>
</mm7:DeliverRsp>""",
    "DeliveryReportReq": """
<mm7:DeliveryReportReq>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>
  <mm7:MMSRelayServerID>mmsc-1</mm7:MMSRelayServerID>
  <mm7:MessageID>msg-1</mm7:MessageID>
  <mm7:Recipient><mm7:Number>01012345678</mm7:Number></mm7:Recipient>
  <mm7:Sender><mm7:ShortCode>1234</mm7:ShortCode></mm7:Sender>
  <mm7:TimeStamp>2024-05-01T10:00:05+09:00</mm7:TimeStamp>
  <mm7:MMStatus>Retrieved</mm7:MMStatus>
  <mm7:StatusText>OK</mm7:StatusText>
</mm7:DeliveryReportReq>""",
    "DeliveryReportRsp": (
        "<mm7:DeliveryReportRsp><mm7:MM7Version>6.8.0</mm7:MM7Version>"
        f"{STATUS_OK}</mm7:DeliveryReportRsp>"
    ),
    "ReadReplyReq": """
<mm7:ReadReplyReq>
  <mm7:MM7Version>6.8.0</mm7:MM7Version>
  <mm7:MessageID>msg-1</mm7:MessageID>
  <mm7:Recipient><mm7:Number>01012345678</mm7:Number></mm7:Recipient>
  <mm7:Sender><mm7:ShortCode>1234</mm7:ShortCode></mm7:Sender>
  <mm7:TimeStamp>2024-05-01T10:05:00+09:00</mm7:TimeStamp>
  <mm7:MMStatus>Read</mm7:MMStatus>
</mm7:ReadReplyReq>""",
    "ReadReplyRsp": (
        f"<mm7:ReadReplyRsp><mm7:MM7Version>6.8.0</mm7:MM7Version>{STATUS_OK}</mm7:ReadReplyRsp>"
    ),
    "Fault-RSErrorRsp": """
<env:Fault>
  <faultcode>env:Client</faultcode>
  <faultstring>Client error</faultstring>
  <detail>
    <mm7:RSErrorRsp>
      <mm7:MM7Version>6.8.0</mm7:MM7Version>
      <mm7:Status>
        <mm7:StatusCode>2007</mm7:StatusCode><mm7:StatusText>Unsupported</mm7:StatusText>
      </mm7:Status>
    </mm7:RSErrorRsp>
  </detail>
</env:Fault>""",
    "Fault-VASPErrorRsp": f"""
<env:Fault>
  <faultcode>env:Server</faultcode>
  <faultstring>Server error</faultstring>
  <detail>
    <mm7:VASPErrorRsp><mm7:MM7Version>6.8.0</mm7:MM7Version>{STATUS_OK}</mm7:VASPErrorRsp>
  </detail>
</env:Fault>""",
}

# --------------------------------------------------------------------------- LGT (REL-5) samples

SUBMIT_LGT = """
<mm7:SubmitReq>
  <MM7Version>5.3.0</MM7Version>
  <SenderIdentification>
    <VASPID>corp</VASPID>
    <VASID>svc01</VASID>
    <SenderAddress><Number>0212345678</Number></SenderAddress>
    <CallBack>0215441234</CallBack>
  </SenderIdentification>
  <Recipients><To><Number displayOnly="False">01012345678</Number></To></Recipients>
  <ServiceCode>000100000001</ServiceCode>
  <MessageClass>Informational</MessageClass>
  <TimeStamp>2024-05-01T10:00:00+09:00</TimeStamp>
  <ExpiryDate>P1D</ExpiryDate>
  <DeliveryReport>True</DeliveryReport>
  <ReadReply>False</ReadReply>
  <Priority>Normal</Priority>
  <ChargedParty>Sender</ChargedParty>
  <DistributionIndicator>False</DistributionIndicator>
  <KisaOrigCode>123456789</KisaOrigCode>
  <Subject>안내 메시지</Subject>
  <Content href="cid xyz" allowAdaptations="True"/>
</mm7:SubmitReq>
"""

STATUS_OK_LGT = "<Status><StatusCode>1000</StatusCode><StatusText>Success</StatusText></Status>"

DELIVERY_REPORT_LGT = """
<mm7:DeliveryReportReq>
  <MM7Version>5.3.0</MM7Version>
  <MMSRelayServerID>LGT-MMSC</MMSRelayServerID>
  <MessageID>msg-1</MessageID>
  <Recipient><Number>01012345678</Number></Recipient>
  <Sender><Number>0212345678</Number></Sender>
  <TimeStamp>2024-05-01T10:00:05+09:00</TimeStamp>
  <MMStatus>Retrieved</MMStatus>
  <StatusText>OK</StatusText>
</mm7:DeliveryReportReq>
"""

SAMPLES_LGT = {
    "SubmitReq": SUBMIT_LGT,
    "SubmitRsp": f"""
<mm7:SubmitRsp>
  <MM7Version>5.3.0</MM7Version>{STATUS_OK_LGT}<MessageID>msg-1</MessageID>
</mm7:SubmitRsp>""",
    "SubmitRsp-4030": """
<mm7:SubmitRsp>
  <MM7Version>5.3.0</MM7Version>
  <Status><StatusCode>4030</StatusCode><StatusText>System error</StatusText></Status>
</mm7:SubmitRsp>""",
    "CancelReq": """
<mm7:CancelReq>
  <MM7Version>5.3.0</MM7Version>
  <SenderIdentification><VASPID>corp</VASPID><VASID>svc01</VASID></SenderIdentification>
  <MessageID>msg-1</MessageID>
</mm7:CancelReq>""",
    "CancelRsp": f"<mm7:CancelRsp><MM7Version>5.3.0</MM7Version>{STATUS_OK_LGT}</mm7:CancelRsp>",
    "ReplaceReq": """
<mm7:ReplaceReq>
  <MM7Version>5.3.0</MM7Version>
  <SenderIdentification><VASID>svc01</VASID></SenderIdentification>
  <MessageID>msg-1</MessageID>
  <ReadReply>True</ReadReply>
  <Content href="cid:new"/>
</mm7:ReplaceReq>""",
    "ReplaceRsp": f"<mm7:ReplaceRsp><MM7Version>5.3.0</MM7Version>{STATUS_OK_LGT}</mm7:ReplaceRsp>",
    "DeliverReq": """
<mm7:DeliverReq>
  <MM7Version>5.3.0</MM7Version>
  <MMSRelayServerID>LGT-MMSC</MMSRelayServerID>
  <Sender><Number>01012345678</Number></Sender>
  <Recipients><To><ShortCode>1234</ShortCode></To></Recipients>
  <TimeStamp>2024-05-01T10:00:00+09:00</TimeStamp>
  <Subject>답장</Subject>
  <Content href="cid:mo-1"/>
</mm7:DeliverReq>""",
    "DeliverRsp": f"<mm7:DeliverRsp><MM7Version>5.3.0</MM7Version>{STATUS_OK_LGT}</mm7:DeliverRsp>",
    "DeliveryReportReq": DELIVERY_REPORT_LGT,
    "DeliveryReportReq-carrier-variant": """
<mm7:DeliveryReportReq>
  <MM7Version>5.3.0</MM7Version>
  <MMSRelayServerID>LGT-MMSC</MMSRelayServerID>
  <Sender><Number>0212345678</Number></Sender>
  <MessageID>msg-1</MessageID>
  <Recipients><Number>01012345678</Number></Recipients>
  <Date>2024-05-01T10:00:05+09:00</Date>
  <MMStatus>PPSRejected</MMStatus>
  <StatusText>NOK</StatusText>
  <CalledNet>LGT</CalledNet>
</mm7:DeliveryReportReq>""",
    "DeliveryReportRsp": (
        f"<mm7:DeliveryReportRsp><MM7Version>5.3.0</MM7Version>{STATUS_OK_LGT}"
        "</mm7:DeliveryReportRsp>"
    ),
    "ReadReplyReq": """
<mm7:ReadReplyReq>
  <MM7Version>5.3.0</MM7Version>
  <MessageID>msg-1</MessageID>
  <Recipient><Number>01012345678</Number></Recipient>
  <Sender><Number>0212345678</Number></Sender>
  <TimeStamp>2024-05-01T10:05:00+09:00</TimeStamp>
  <MMStatus>Read</MMStatus>
</mm7:ReadReplyReq>""",
    "ReadReplyRsp": (
        f"<mm7:ReadReplyRsp><MM7Version>5.3.0</MM7Version>{STATUS_OK_LGT}</mm7:ReadReplyRsp>"
    ),
    "Fault-RSErrorRsp": """
<env:Fault>
  <faultcode>env:Server</faultcode>
  <faultstring>Traffic is over</faultstring>
  <detail>
    <mm7:RSErrorRsp>
      <MM7Version>5.3.0</MM7Version>
      <Status><StatusCode>7103</StatusCode><StatusText>Traffic is over</StatusText></Status>
    </mm7:RSErrorRsp>
  </detail>
</env:Fault>""",
}


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize("kind", oracle.KINDS)
def test_wsdl_loads_without_network(kind: str) -> None:
    client = oracle.load_wsdl(kind)
    assert {service.name for service in client.wsdl.services.values()} == {
        "MM7RelayService",
        "MM7VASPService",
    }
    ns = oracle.MM7_NAMESPACES[kind]
    for name in [*oracle.OPERATIONS, *oracle.FAULT_DETAIL_ELEMENTS, "TransactionID"]:
        assert client.get_element(f"{{{ns}}}{name}") is not None
    assert oracle.load_wsdl(kind) is client  # cached


@pytest.mark.parametrize("kind", oracle.KINDS)
def test_every_operation_carries_the_transaction_id_header(kind: str) -> None:
    client = oracle.load_wsdl(kind)
    ns = oracle.MM7_NAMESPACES[kind]
    operations = {}
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            operations.update(port.binding._operations)
    assert set(operations) == {
        "Submit",
        "Cancel",
        "Replace",
        "Deliver",
        "DeliveryReport",
        "ReadReply",
    }
    for name, operation in operations.items():
        for message in (operation.input, operation.output):
            header = message.header
            assert header is not None, name
            assert [element.qname.text for _, element in header.type.elements] == [
                f"{{{ns}}}TransactionID"
            ], name
        expected_fault = "RSError" if name in {"Submit", "Cancel", "Replace"} else "VASPError"
        assert list(operation.faults) == [expected_fault]


def test_transport_refuses_network() -> None:
    transport = oracle.NoNetworkTransport()
    with pytest.raises(RuntimeError, match="network access refused"):
        transport.load("http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/x.xsd")
    with pytest.raises(RuntimeError, match="network access refused"):
        transport.load("https://schemas.xmlsoap.org/soap/envelope/")


def test_no_schema_file_points_at_the_network() -> None:
    for path in oracle.WSDL_DIR.glob("*.[wx]sd*"):
        tree = etree.parse(str(path))
        locations = tree.xpath("//@schemaLocation | //@location")
        for location in locations:
            if path.suffix == ".wsdl" and location.startswith("http://localhost/"):
                continue  # soap:address placeholders, never fetched
            assert not location.startswith(("http:", "https:")), (path.name, location)


# --------------------------------------------------------------------------- valid samples


@pytest.mark.parametrize("name", sorted(SAMPLES_3GPP))
def test_3gpp_samples_validate(name: str) -> None:
    oracle.validate_envelope("3gpp", envelope(NS_3GPP, SAMPLES_3GPP[name]))


@pytest.mark.parametrize("name", sorted(SAMPLES_LGT))
def test_lgt_samples_validate(name: str) -> None:
    oracle.validate_envelope("lgt", envelope(NS_LGT, SAMPLES_LGT[name], encoding="euc-kr"))


def test_lgt_sample_parses_in_zeep_with_the_lgt_extensions() -> None:
    root = etree.fromstring(envelope(NS_LGT, SUBMIT_LGT))
    submit = root.find(f".//{{{NS_LGT}}}SubmitReq")
    parsed = oracle.zeep_parse("lgt", submit)
    assert parsed.KisaOrigCode == "123456789"
    assert parsed.SenderIdentification.CallBack == "0215441234"
    assert parsed.DeliveryReport == "True"
    assert parsed.Content["href"] == "cid xyz"


def test_3gpp_sample_parses_in_zeep() -> None:
    root = etree.fromstring(envelope(NS_3GPP, SUBMIT_3GPP))
    parsed = oracle.zeep_parse("3gpp", root.find(f".//{{{NS_3GPP}}}SubmitReq"))
    assert parsed.MM7Version == "6.8.0"
    assert parsed.DeliveryReport is True
    assert parsed.Content["allowAdaptations"] is True
    assert parsed.DeliveryCondition.DC == [1, 2]


def test_str_input_with_encoding_declaration_is_accepted() -> None:
    text = envelope(NS_LGT, SUBMIT_LGT, encoding="euc-kr").decode("euc-kr")
    oracle.validate_envelope("lgt", text)


def test_transaction_id_may_be_optional() -> None:
    xml = envelope(NS_3GPP, SAMPLES_3GPP["CancelRsp"], txid=None)
    with pytest.raises(AssertionError, match="missing SOAP header"):
        oracle.validate_envelope("3gpp", xml)
    oracle.validate_envelope("3gpp", xml, require_transaction_id=False)


# --------------------------------------------------------------------------- broken samples


def _reject(kind: str, xml: bytes, *fragments: str) -> str:
    with pytest.raises(AssertionError) as info:
        oracle.validate_envelope(kind, xml)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def _operation(kind: str, body: str) -> etree._Element:
    ns = oracle.MM7_NAMESPACES[kind]
    root = etree.fromstring(envelope(ns, body))
    body_el = root.find(f"{{{ENV}}}Body")
    assert body_el is not None
    return body_el[0]


def _zeep_rejects(kind: str, body: str) -> bool:
    try:
        oracle.zeep_parse(kind, _operation(kind, body))
    except Exception:
        return True
    return False


def _drop(xml: str, fragment: str) -> str:
    assert fragment in xml
    return xml.replace(fragment, "", 1)


RECIPIENTS_3GPP = SUBMIT_3GPP[
    SUBMIT_3GPP.index("<mm7:Recipients>") : SUBMIT_3GPP.index("</mm7:Recipients>")
    + len("</mm7:Recipients>")
]


@pytest.mark.parametrize(
    ("kind", "body", "reason"),
    [
        ("3gpp", _drop(SUBMIT_3GPP, RECIPIENTS_3GPP), "Recipients"),
        (
            "lgt",
            _drop(
                SUBMIT_LGT,
                '<Recipients><To><Number displayOnly="False">01012345678</Number>'
                "</To></Recipients>",
            ),
            "Recipients",
        ),
    ],
)
def test_missing_recipients_is_rejected(kind: str, body: str, reason: str) -> None:
    ns = oracle.MM7_NAMESPACES[kind]
    _reject(kind, envelope(ns, body), "XSD validation failed", reason)


def test_zeep_alone_misses_a_truncated_message() -> None:
    # zeep (strict) stops at the end of the children without checking what is still required;
    # the lxml XMLSchema layer is what makes the oracle strict here.
    body = (
        "<mm7:SubmitReq><mm7:MM7Version>6.8.0</mm7:MM7Version>"
        "<mm7:SenderIdentification/></mm7:SubmitReq>"
    )
    assert not _zeep_rejects("3gpp", body)
    _reject("3gpp", envelope(NS_3GPP, body), "Recipients")


def test_misordered_children_are_rejected_by_both_checkers() -> None:
    priority = "<mm7:Priority>Normal</mm7:Priority>"
    body = _drop(SUBMIT_3GPP, priority).replace(
        "<mm7:ChargedParty>", priority + "<mm7:ChargedParty>"
    )
    _reject("3gpp", envelope(NS_3GPP, body), "Priority")
    assert _zeep_rejects("3gpp", body)


def test_standard_order_of_subject_is_rejected_in_the_lgt_form() -> None:
    subject = "<Subject>안내 메시지</Subject>"
    body = _drop(SUBMIT_LGT, subject).replace("<ChargedParty>", subject + "<ChargedParty>")
    _reject("lgt", envelope(NS_LGT, body), "ChargedParty")
    assert _zeep_rejects("lgt", body)


def test_rel6_elements_after_content_are_rejected() -> None:
    body = _drop(SUBMIT_3GPP, "<mm7:ApplicID>app-1</mm7:ApplicID>").replace(
        "</mm7:SubmitReq>", "<mm7:ApplicID>app-1</mm7:ApplicID></mm7:SubmitReq>"
    )
    _reject("3gpp", envelope(NS_3GPP, body), "ApplicID")


def test_unknown_child_is_rejected_by_both_checkers() -> None:
    body = SUBMIT_3GPP.replace("<mm7:Subject>", "<mm7:Bogus>x</mm7:Bogus><mm7:Subject>")
    _reject("3gpp", envelope(NS_3GPP, body), "Bogus")
    assert _zeep_rejects("3gpp", body)


@pytest.mark.parametrize("code", ["12345678", "1234567890", "12345678a", ""])
def test_kisa_orig_code_must_be_nine_digits(code: str) -> None:
    body = SUBMIT_LGT.replace("123456789", code)
    _reject("lgt", envelope(NS_LGT, body), "KisaOrigCode")


def test_kisa_orig_code_is_optional_in_the_schema() -> None:
    body = _drop(SUBMIT_LGT, "<KisaOrigCode>123456789</KisaOrigCode>")
    oracle.validate_envelope("lgt", envelope(NS_LGT, body))


def test_kisa_orig_code_and_callback_are_not_standard() -> None:
    lgt_only = SUBMIT_3GPP.replace(
        "<mm7:Subject>", "<mm7:KisaOrigCode>123456789</mm7:KisaOrigCode><mm7:Subject>"
    )
    _reject("3gpp", envelope(NS_3GPP, lgt_only), "KisaOrigCode")


def test_title_case_booleans_are_lgt_only() -> None:
    body = SUBMIT_3GPP.replace("<mm7:DeliveryReport>true<", "<mm7:DeliveryReport>True<")
    _reject("3gpp", envelope(NS_3GPP, body), "DeliveryReport")
    bad = SUBMIT_LGT.replace("<DeliveryReport>True<", "<DeliveryReport>yes<")
    _reject("lgt", envelope(NS_LGT, bad), "DeliveryReport")


def test_qualification_is_enforced_per_form() -> None:
    # LGT form (unqualified children) is not the standard form, and vice versa.
    _reject("3gpp", envelope(NS_3GPP, SAMPLES_LGT["CancelReq"]), "XSD validation failed")
    qualified_lgt = SAMPLES_3GPP["CancelReq"].replace("6.8.0", "5.3.0")
    _reject("lgt", envelope(NS_LGT, qualified_lgt), "XSD validation failed")


def test_wrong_namespace_is_rejected() -> None:
    no_header = envelope(NS_3GPP, SAMPLES_3GPP["CancelRsp"], txid=None)
    with pytest.raises(AssertionError, match="not in the lgt MM7 namespace"):
        oracle.validate_envelope("lgt", no_header, require_transaction_id=False)
    _reject("lgt", envelope(NS_3GPP, SAMPLES_LGT["CancelRsp"]), "TransactionID in the wrong")


def test_open_mm_status_but_required_fields_in_delivery_report() -> None:
    for status in ("Retrieved", "PPSRejected", "Stalking", "Fail", "NoRecipient"):
        body = DELIVERY_REPORT_LGT.replace(">Retrieved<", f">{status}<")
        oracle.validate_envelope("lgt", envelope(NS_LGT, body))
    no_status = _drop(DELIVERY_REPORT_LGT, "<MMStatus>Retrieved</MMStatus>")
    _reject("lgt", envelope(NS_LGT, no_status), "MMStatus")


def test_lgt_delivery_report_needs_exactly_one_sender() -> None:
    sender = "<Sender><Number>0212345678</Number></Sender>"
    no_sender = _drop(DELIVERY_REPORT_LGT, sender)
    _reject("lgt", envelope(NS_LGT, no_sender), "exactly one Sender, found 0")
    two_senders = DELIVERY_REPORT_LGT.replace("<MessageID>", sender + "<MessageID>")
    _reject("lgt", envelope(NS_LGT, two_senders), "exactly one Sender, found 2")


def test_envelope_and_fault_structure_are_checked() -> None:
    two_bodies = SAMPLES_3GPP["CancelRsp"] * 2
    _reject("3gpp", envelope(NS_3GPP, two_bodies), "exactly one")
    empty_fault = (
        "<env:Fault><faultcode>env:Server</faultcode><faultstring>x</faultstring></env:Fault>"
    )
    _reject("3gpp", envelope(NS_3GPP, empty_fault), "RSErrorRsp or VASPErrorRsp")
    no_faultstring = SAMPLES_3GPP["Fault-RSErrorRsp"].replace(
        "<faultstring>Client error</faultstring>", ""
    )
    _reject("3gpp", envelope(NS_3GPP, no_faultstring), "SOAP envelope structure invalid")
    bad_must_understand = envelope(NS_3GPP, SAMPLES_3GPP["CancelRsp"]).replace(
        b'mustUnderstand="1"', b'mustUnderstand="yes"'
    )
    _reject("3gpp", bad_must_understand, "TransactionID")
    _reject("3gpp", b"<not-soap/>", "SOAP 1.1 Envelope")
    _reject("3gpp", b"<broken", "not well-formed")


def test_status_code_must_be_numeric() -> None:
    body = SAMPLES_3GPP["CancelRsp"].replace(">1000<", ">OK<")
    _reject("3gpp", envelope(NS_3GPP, body), "StatusCode")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind="):
        oracle.validate_envelope("mm4", envelope(NS_3GPP, SAMPLES_3GPP["CancelRsp"]))
