#pragma once
// Cards on file and the "your card expires soon" reminder. Every payment-method event with a
// card expiry upserts its card; invoice events fill in the member's email and name. The sweep
// queues one reminder per card and expiry: it marks the card reminded and queues the
// card_reminder job in one transaction, so a crash can neither lose nor double it. When a
// reminder is due is core/card_expiry.hpp's rule.
#include "core/event.hpp"
#include "core/time.hpp"

#include "store/database.hpp"
#include <cstdint>
#include <string>
#include <vector>

namespace dunning::store {

// Also records whose payment method it is (any kind): customer_of_payment_method.
void remember_card(Connection& db, const std::string& creator, const PaymentMethodFacts& pm);
// A charge names its card too: members who never changed their card are known from payments.
void remember_card(Connection& db, const std::string& creator, const PaymentFacts& p);
void remember_card_holder(Connection& db, const std::string& creator, const InvoiceFacts& inv);

// The member a payment method was seen with (in a payment or payment-method event); "" when
// none was.
std::string customer_of_payment_method(Connection& db, const std::string& creator,
                                       const std::string& payment_method);

// Queues the reminders that are due now (card_reminder jobs); returns how many it queued.
std::size_t queue_card_reminders(Connection& db, Timestamp now);

// "03/2027"
std::string card_expiry_text(int month, int year);

} // namespace dunning::store
