"""A return's documents for staff: the packing slip (what the parcel should contain) and the
return report (lines, quantities, inspection, refunds and their breakdown, the timeline). The
label and the credit note are served by the shopper's routes, which let staff in too."""

from portal import i18n
from portal.auth.roles import staff_required
from portal.customer.parcel import pdf_response
from portal.documents import sheet_pdf
from portal.merchant import bp
from portal.merchant.detail import load_return
from portal.returns import documents


@bp.route("/returns/<reference>/packing-slip.pdf")
@staff_required
def packing_slip(reference):
    rma = load_return(reference)
    return pdf_response(
        sheet_pdf(documents.packing_slip(rma, i18n.document_words())),
        f"packing-slip-{reference}.pdf",
    )


@bp.route("/returns/<reference>/report.pdf")
@staff_required
def return_report(reference):
    rma = load_return(reference)
    return pdf_response(
        sheet_pdf(documents.return_report(rma, i18n.document_words())), f"return-{reference}.pdf"
    )
