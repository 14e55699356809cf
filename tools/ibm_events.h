// The IBM accounts-receivable sample (data/ibm-accounts-receivable.csv) as protocol events, the
// mapping that protocol.md ("The IBM sample as events") fixes, ids included, so that a replay of
// the sample is the same stream of events wherever it is made.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace rms {

// Returns the events of the sample in `csv_text`, one compact JSON object per string, without
// '\n', in the order they must be sent: by date, and within a day customers, invoices, disputes
// opened, disputes resolved, payments, each group in the file's row order.
//
// Per row (one invoice in USD, source "default"):
// - customer.upserted "ibm-cust-<customerID>" with its country, dated the customer's first
//   InvoiceDate (once per customer, from its earliest row; ties go to the earlier row);
// - invoice.issued "ibm-inv-<invoiceNumber>" on InvoiceDate, due DueDate, for InvoiceAmount as
//   written;
// - where Disputed is "Yes": dispute.opened "ibm-dsp-<invoiceNumber>" on InvoiceDate and
//   dispute.resolved "ibm-res-<invoiceNumber>" on SettledDate;
// - payment.received "ibm-pay-<invoiceNumber>" (payment "pay-<invoiceNumber>") on SettledDate for
//   the whole amount, allocated to the invoice.
//
// The header names the columns (in any order; extra columns are ignored). Lines may end in
// "\r\n" or "\n"; blank lines are skipped. Quoted fields are not supported.
// Fails with "invalid_csv" for a missing column, a wrong number of fields, a quoted field or
// an invoice number used twice; "invalid_date" for a date that is not a real M/D/YYYY day or a
// SettledDate before InvoiceDate; "invalid_amount" for an amount that is not protocol money in
// USD; "invalid_field" for an empty id or a Disputed other than Yes/No. Each message names the
// line, the column and the bad value, e.g.
//   line 7, column InvoiceDate: "2/30/2013" is not a M/D/YYYY date
[[nodiscard]] Result<std::vector<std::string>> IbmSampleToEvents(std::string_view csv_text);

// Returns the whole content of the file at `path`. Fails with "io_error" naming the path and the
// reason.
[[nodiscard]] Result<std::string> ReadFile(const std::string& path);

}  // namespace rms
