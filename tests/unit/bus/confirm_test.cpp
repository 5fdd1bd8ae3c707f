// Publisher confirms bookkeeping (bus::ConfirmTracker): the broker may confirm a channel's publishes
// out of order, singly or many at once, and the publisher must wait for every one of them.
#define BOOST_TEST_MODULE unit_bus
#include <boost/test/unit_test.hpp>

#include "gateway/bus/amqp.hpp"

using vkhid::bus::ConfirmTracker;

BOOST_AUTO_TEST_SUITE(confirms)

BOOST_AUTO_TEST_CASE(a_later_publish_confirmed_first_leaves_the_earlier_ones_waiting) {
  // Four publishes (tags 1-4); the fourth, to another priority level, is confirmed first.
  ConfirmTracker t;
  t.confirm(4, false);
  BOOST_TEST(!t.allBefore(5));
  t.confirm(1, false);
  t.confirm(3, false);
  BOOST_TEST(!t.allBefore(5));  // the second is still out
  t.confirm(2, false);
  BOOST_TEST(t.allBefore(5));
}

BOOST_AUTO_TEST_CASE(one_confirm_with_multiple_covers_every_tag_up_to_its_own) {
  ConfirmTracker t;
  t.confirm(5, false);
  t.confirm(3, true);  // 1-3
  BOOST_TEST(!t.allBefore(6));
  BOOST_TEST(t.allBefore(4));
  t.confirm(4, true);  // 4, and 5 was confirmed already
  BOOST_TEST(t.allBefore(6));
  BOOST_TEST(!t.allBefore(7));
}

BOOST_AUTO_TEST_CASE(nothing_published_is_nothing_to_wait_for_and_reset_starts_over) {
  ConfirmTracker t;
  BOOST_TEST(t.allBefore(1));
  t.confirm(2, true);
  BOOST_TEST(t.allBefore(3));
  t.reset();  // a new channel numbers from 1 again
  BOOST_TEST(!t.allBefore(2));
  t.confirm(1, false);
  BOOST_TEST(t.allBefore(2));
}

BOOST_AUTO_TEST_SUITE_END()
