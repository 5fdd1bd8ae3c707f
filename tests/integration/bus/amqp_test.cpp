#define BOOST_TEST_MODULE integration_bus
#include <boost/test/unit_test.hpp>
#include <thread>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "adapters/amqp/amqp_adapter.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/flows/queue_consumer.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;

namespace {
bus::AmqpConnection connect() {
  auto c = bus::AmqpConnection::connect({testing::amqpUrl(), 5, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(c).value();
}

// A fresh queue holding n confirmed messages whose bodies are "0", "1", …
std::string queueWith(bus::AmqpConnection& c, const std::string& prefix, int n) {
  const std::string queue = prefix + "." + std::to_string(testing::freePort());
  BOOST_REQUIRE(c.declareQueue(queue).ok());
  for (int i = 0; i < n; ++i) BOOST_REQUIRE(c.publish("", queue, std::to_string(i), {}).ok());
  BOOST_REQUIRE(c.waitForConfirms(std::chrono::seconds(5)).ok());
  return queue;
}

// On a fresh connection: the bodies still in the queue, each taken and acknowledged; the queue deleted.
std::vector<std::string> takeWhatIsLeft(const std::string& queue) {
  auto c = connect();
  std::vector<std::string> left;
  for (auto d = c.get(queue); d.ok() && d->has_value(); d = c.get(queue)) {
    left.push_back((*d)->body);
    BOOST_REQUIRE(c.ack((*d)->tag).ok());
  }
  BOOST_TEST(c.deleteEmptyQueue(queue).ok());
  return left;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(amqp)

BOOST_AUTO_TEST_CASE(topology_declares_twice_without_error) {
  auto c = connect();
  auto first = bus::declare(c, bus::gatewayTopology());
  BOOST_REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
  auto again = bus::declare(c, bus::gatewayTopology());
  BOOST_TEST(again.ok());
  BOOST_TEST(c.queueDepth("vkhid.retry.10000ms").ok());
  BOOST_TEST(c.queueDepth("vkhid.dead").ok());
}

BOOST_AUTO_TEST_CASE(publish_is_confirmed_and_lands_in_its_queue) {
  auto c = connect();
  BOOST_REQUIRE(bus::declare(c, bus::gatewayTopology()).ok());
  const std::string org = "t" + std::to_string(testing::freePort());
  BOOST_REQUIRE(bus::declare(c, bus::participantTopology(org)).ok());
  bus::PublishProperties props;
  props.message_id = "5d3b0c56-6a3e-4d0b-9a57-0d7f3f0f0001";
  for (int i = 0; i < 3; ++i) {
    BOOST_REQUIRE(c.publish(bus::names::kDelivery, org, "<Header/>", props).ok());
  }
  auto confirmed = c.waitForConfirms(std::chrono::seconds(5));
  BOOST_REQUIRE_MESSAGE(confirmed.ok(), (confirmed.ok() ? "" : confirmed.error().message));
  auto depth = c.queueDepth(bus::deliveryQueueName(org));
  BOOST_REQUIRE(depth.ok());
  BOOST_TEST(*depth == 3u);
}

BOOST_AUTO_TEST_CASE(priority_applicant_is_served_before_messages_already_waiting) {
  // Art. 20 applicants are served first: a priority message published after others waiting in a
  // participant's delivery queue comes out of it first; the rest keep their order.
  auto c = connect();
  BOOST_REQUIRE(bus::declare(c, bus::gatewayTopology()).ok());
  const std::string org = "p" + std::to_string(testing::freePort());
  BOOST_REQUIRE(bus::declare(c, bus::participantTopology(org)).ok());
  for (std::string id : {"first", "second", "third", "priority"}) {
    bus::PublishProperties props;
    props.message_id = id;
    if (id == "priority") props.priority = 5;
    BOOST_REQUIRE(c.publish(bus::names::kDelivery, org, "{}", props).ok());
  }
  BOOST_REQUIRE(c.waitForConfirms(std::chrono::seconds(5)).ok());
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    // Confirmed means enqueued — every publish, however the broker ordered its confirms (a get that once
    // found the queue empty, and once a late confirm in a get's reply, came from waiting for the
    // highest tag only): an empty queue here says what its depth was.
    auto d = c.get(bus::deliveryQueueName(org));
    BOOST_REQUIRE_MESSAGE(d.ok(), "get " << i << ": " << (d.ok() ? "" : d.error().message));
    if (!d->has_value()) {
      auto depth = c.queueDepth(bus::deliveryQueueName(org));
      BOOST_FAIL("get " << i << ": the queue is empty; its depth says "
                        << (depth.ok() ? std::to_string(*depth) : depth.error().message));
    }
    order.push_back((*d)->message_id);
    BOOST_REQUIRE(c.ack((*d)->tag).ok());
  }
  BOOST_TEST(order == (std::vector<std::string>{"priority", "first", "second", "third"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(one_acknowledgement_covers_every_delivery_up_to_its_tag) {
  // Five taken, the third acknowledged with `multiple`: the first three are done, the other two come
  // back once the connection that held them is gone.
  std::string queue;
  {
    auto c = connect();
    queue = queueWith(c, "acks", 5);
    std::vector<std::uint64_t> tags;
    for (int i = 0; i < 5; ++i) {
      auto d = c.get(queue);
      BOOST_REQUIRE(d.ok() && d->has_value());
      tags.push_back((*d)->tag);
    }
    BOOST_REQUIRE(c.ack(tags[2], true).ok());
    BOOST_REQUIRE(c.queueDepth(queue).ok());  // a round trip: the ack has arrived before we leave
  }
  BOOST_TEST(takeWhatIsLeft(queue) == (std::vector<std::string>{"3", "4"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(handled_deliveries_wait_for_one_acknowledgement_of_eight) {
  // Nine of ten handled through an AckBatch of eight: the eighth sends one ack for the first eight, the
  // ninth waits for the next. The connection then lost, the ninth and the tenth come back — with an
  // ack per delivery only the tenth would.
  std::string queue;
  {
    auto c = connect();
    queue = queueWith(c, "batch", 10);
    bus::AckBatch acks(c, 8);
    for (int i = 0; i < 10; ++i) {
      auto d = c.get(queue);
      BOOST_REQUIRE(d.ok() && d->has_value());
      if (i < 9) BOOST_REQUIRE(acks.handled((*d)->tag).ok());
    }
    BOOST_TEST(acks.pending());
    BOOST_REQUIRE(c.queueDepth(queue).ok());  // a round trip: what was sent has arrived before we leave
  }
  BOOST_TEST(takeWhatIsLeft(queue) == (std::vector<std::string>{"8", "9"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(consumer_returns_a_delivery_alone_and_handles_every_other_once) {
  // Twenty deliveries waiting, acknowledged together while more wait: when one cannot be handled now
  // the consumer first acknowledges those before it and then returns that one alone — each other
  // delivery is handled exactly once, and the returned one once more (acknowledged together with the
  // others it would be lost).
  auto c = connect();
  const std::string queue = queueWith(c, "consumer", 20);
  std::mutex mutex;
  std::map<std::string, int> seen;
  std::atomic<int> calls{0};
  flows::QueueConsumer consumer(
      "test", {testing::amqpUrl(), 5, 0, std::chrono::milliseconds(5000)},
      [](bus::AmqpConnection&) { return Status{}; }, [queue] { return std::vector<std::string>{queue}; },
      [&](const bus::Delivery& d) {
        std::lock_guard lock(mutex);
        calls++;
        return ++seen[d.body] == 1 && d.body == "11" ? flows::Disposition::Requeue : flows::Disposition::Ack;
      },
      16);
  consumer.start();
  for (int i = 0; i < 100 && calls < 21; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // anything offered again would show by now
  consumer.stop();
  BOOST_TEST(calls == 21);
  for (int i = 0; i < 20; ++i) BOOST_TEST(seen[std::to_string(i)] == (i == 11 ? 2 : 1), "delivery " << i);
  auto depth = c.queueDepth(queue);
  BOOST_REQUIRE(depth.ok());
  BOOST_TEST(*depth == 0u);
  BOOST_TEST(c.deleteEmptyQueue(queue).ok());
}

BOOST_AUTO_TEST_CASE(queue_from_an_earlier_version_is_upgraded_once_empty) {
  // A delivery queue declared before priorities existed: holding a message, it is used as it is (the
  // connection keeps working); once drained, the next declare replaces it with a priority queue.
  auto c = connect();
  BOOST_REQUIRE(bus::declare(c, bus::gatewayTopology()).ok());
  const std::string org = "u" + std::to_string(testing::freePort());
  const std::string queue = bus::deliveryQueueName(org);
  BOOST_REQUIRE(c.declareQueue(queue, {}).ok());
  bus::PublishProperties props;
  props.message_id = "waiting";
  BOOST_REQUIRE(c.publish("", queue, "{}", props).ok());
  BOOST_REQUIRE(c.waitForConfirms(std::chrono::seconds(5)).ok());

  // Still usable as it is (its consumer drains it), not yet a priority queue, nothing lost.
  auto kept = bus::declare(c, bus::participantTopology(org));
  BOOST_REQUIRE_MESSAGE(kept.ok(), (kept.ok() ? "" : kept.error().message));
  BOOST_REQUIRE(c.open());
  auto priority_args = bus::AmqpArgs{{"x-max-priority", bus::names::kMaxPriority}};
  auto old_args = c.declareQueue(queue, priority_args);
  BOOST_REQUIRE(!old_args.ok());
  BOOST_TEST(old_args.error().code == "amqp.queue_args");
  BOOST_REQUIRE(c.open());
  auto waiting = c.get(queue);
  BOOST_REQUIRE(waiting.ok() && waiting->has_value());
  BOOST_TEST((*waiting)->message_id == "waiting");
  BOOST_REQUIRE(c.ack((*waiting)->tag).ok());

  auto upgraded = bus::declare(c, bus::participantTopology(org));
  BOOST_REQUIRE_MESSAGE(upgraded.ok(), (upgraded.ok() ? "" : upgraded.error().message));
  BOOST_TEST(c.declareQueue(queue, priority_args).ok());
  // Publishing after the channel was reopened is confirmed as before.
  BOOST_REQUIRE(c.publish(bus::names::kDelivery, org, "{}", props).ok());
  BOOST_TEST(c.waitForConfirms(std::chrono::seconds(5)).ok());
}

BOOST_AUTO_TEST_CASE(unroutable_publish_is_reported) {
  auto c = connect();
  BOOST_REQUIRE(bus::declare(c, bus::gatewayTopology()).ok());
  BOOST_REQUIRE(c.publish(bus::names::kDelivery, "no-such-participant", "x", {}).ok());
  auto confirmed = c.waitForConfirms(std::chrono::seconds(5));
  BOOST_REQUIRE(!confirmed.ok());
  BOOST_TEST(confirmed.error().code == "amqp.unroutable");
}

BOOST_AUTO_TEST_CASE(publish_with_another_user_id_is_refused_by_the_broker) {
  // The amqp adapter identifies a participant by the user_id property: this holds only because the
  // broker refuses a user_id that is not the connection's own user.
  auto c = connect();
  BOOST_REQUIRE(bus::declare(c, bus::gatewayTopology()).ok());
  bus::PublishProperties props;
  props.user_id = "someone-else";
  BOOST_REQUIRE(c.publish(bus::names::kEvents, "case.registered", "{}", props).ok());
  auto confirmed = c.waitForConfirms(std::chrono::seconds(5));
  BOOST_TEST(!confirmed.ok());
  BOOST_TEST(!c.open());
  // Its own user name is accepted.
  auto own = connect();
  props.user_id = "guest";
  BOOST_REQUIRE(own.publish(bus::names::kEvents, "case.nothing-bound", "{}", props).ok());
  auto ok = own.waitForConfirms(std::chrono::seconds(5));
  BOOST_TEST((ok.ok() || ok.error().code == "amqp.unroutable"), (ok.ok() ? "" : ok.error().message));
}

BOOST_AUTO_TEST_CASE(idle_connection_lives_on_its_heartbeats_and_dies_without) {
  // Heartbeats every second: left alone for five, a connection is closed by the broker (what made a
  // gateway's idle relay and publisher fail their next publish, 15 times in one run); served by
  // keepAlive() while idle, it publishes as if it had never waited.
  const auto settings = bus::AmqpSettings{testing::amqpUrl(), 5, 1, std::chrono::milliseconds(5000)};
  auto kept = bus::AmqpConnection::connect(settings);
  auto left = bus::AmqpConnection::connect(settings);
  BOOST_REQUIRE(kept.ok());
  BOOST_REQUIRE(left.ok());
  for (int i = 0; i < 25; ++i) {
    BOOST_REQUIRE(kept->keepAlive().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  BOOST_TEST(kept->publish("", "amq.nonexistent-but-harmless", "x", {}).ok());
  auto kept_confirm = kept->waitForConfirms(std::chrono::seconds(5));
  BOOST_TEST((kept_confirm.ok() || kept_confirm.error().code == "amqp.unroutable"),
             (kept_confirm.ok() ? "" : kept_confirm.error().message));
  BOOST_TEST(!left->keepAlive().ok());  // the broker gave up on it
}

BOOST_AUTO_TEST_CASE(adapter_delivers_a_batch_in_order_and_retries_all_of_it_when_unconfirmed) {
  // Several packages to one endpoint go in flight together and are confirmed by one wait; they land in
  // the order given. Unconfirmed (here: no broker at all), every one of them is to be retried.
  const std::string queue = "batch." + std::to_string(testing::freePort());
  adapters::Endpoint endpoint{"12345678", "amqp", {{"inbox_queue", queue}}};
  const std::vector<std::string> bodies{"0", "1", "2", "3", "4"};
  std::vector<adapters::OutboundPackage> packages;
  for (const auto& b : bodies) packages.push_back({b, "5d3b0c56-6a3e-4d0b-9a57-0d7f3f0f000" + b});
  adapters::amqp::Settings s;
  s.broker_url = testing::amqpUrl();
  adapters::amqp::AmqpAdapter adapter(s);
  const auto outcomes = adapter.deliverAll(packages, endpoint);
  BOOST_REQUIRE(outcomes.size() == bodies.size());
  for (const auto& o : outcomes) BOOST_TEST((o.kind == adapters::DeliveryOutcome::Kind::Delivered), o.detail);
  BOOST_TEST(takeWhatIsLeft(queue) == bodies, boost::test_tools::per_element());

  s.broker_url = "amqp://guest:guest@127.0.0.1:" + std::to_string(testing::freePort()) + "/%2f";
  s.connect_timeout_s = 2;
  adapters::amqp::AmqpAdapter unreachable(s);
  const auto refused = unreachable.deliverAll(packages, endpoint);
  BOOST_REQUIRE(refused.size() == bodies.size());
  for (const auto& o : refused) BOOST_TEST((o.kind == adapters::DeliveryOutcome::Kind::Retry));
  adapter.stop();
}

BOOST_AUTO_TEST_CASE(adapter_takes_each_participants_packages_in_the_order_sent) {
  // Two participants' packages wait in their outbox queues, each numbered in the order it sent them. The
  // gateway's two inbound consumers take them: every package once, and each participant's in its order
  // (two consumers sharing one queue would take them turn about, and a batch could overtake another).
  const std::string tag = std::to_string(testing::freePort());
  const std::vector<adapters::Endpoint> endpoints{{"11111111", "amqp", {{"outbox_queue", "order.a." + tag}}},
                                                  {"22222222", "amqp", {{"outbox_queue", "order.b." + tag}}}};
  const int n = 200;
  {
    auto c = connect();
    for (const auto& e : endpoints) {
      const auto queue = e.setting("outbox_queue");
      BOOST_REQUIRE(bus::declarePeerQueue(c, queue).ok());
      for (int i = 0; i < n; ++i) BOOST_REQUIRE(c.publish("", queue, e.org_id + ":" + std::to_string(i), {}).ok());
    }
    BOOST_REQUIRE(c.waitForConfirms(std::chrono::seconds(5)).ok());
  }
  std::mutex m;
  std::map<std::string, std::vector<int>> taken;  // by participant, in the order applied
  adapters::amqp::Settings s;
  s.broker_url = testing::amqpUrl();
  s.prefetch = 8;
  s.inbound_workers = 2;
  adapters::amqp::AmqpAdapter adapter(s);
  auto batch = [&](const std::vector<adapters::InboundPackage>& packages) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a batch's transaction takes time
    std::lock_guard lock(m);
    for (const auto& p : packages) {
      const auto colon = p.bytes.find(':');
      BOOST_TEST(p.bytes.substr(0, colon) == p.endpoint_org_id);  // told whose queue it came from
      taken[p.endpoint_org_id].push_back(std::stoi(p.bytes.substr(colon + 1)));
    }
    return std::vector<Status>(packages.size());
  };
  BOOST_REQUIRE(adapter.startInbound(endpoints, {}, batch).ok());
  BOOST_TEST(testing::eventually(
      [&] {
        std::lock_guard lock(m);
        return taken["11111111"].size() + taken["22222222"].size() >= 2u * n;
      },
      std::chrono::seconds(30)));
  adapter.stop();
  std::vector<int> sent(n);
  for (int i = 0; i < n; ++i) sent[i] = i;
  for (const auto& e : endpoints) {
    BOOST_TEST(taken[e.org_id] == sent, boost::test_tools::per_element());
    BOOST_TEST(takeWhatIsLeft(e.setting("outbox_queue")).empty());
  }
}

BOOST_AUTO_TEST_CASE(participants_queues_are_dealt_one_consumer_each) {
  // Each queue to one consumer, the queues spread evenly, no consumer without a queue.
  std::vector<adapters::Endpoint> endpoints;
  for (const char* org : {"1", "2", "3", "4", "5"}) endpoints.push_back({org, "amqp", {}});
  endpoints.push_back({"3", "amqp", {}});  // a second endpoint of participant 3: the same queue
  const auto shares = adapters::amqp::dealQueues(endpoints, 2);
  BOOST_REQUIRE(shares.size() == 2u);
  std::map<std::string, int> holders;
  for (const auto& share : shares) {
    std::set<std::string> queues;
    for (const auto& e : share) queues.insert(adapters::amqp::outboxQueue(e));
    for (const auto& q : queues) holders[q]++;
    BOOST_TEST((queues.size() == 2u || queues.size() == 3u));
  }
  BOOST_TEST(holders.size() == 5u);
  for (const auto& [queue, count] : holders) BOOST_TEST(count == 1, queue);
  BOOST_TEST(adapters::amqp::dealQueues(endpoints, 8).size() == 5u);
  BOOST_TEST(adapters::amqp::dealQueues({}, 2).empty());
}

BOOST_AUTO_TEST_CASE(unreachable_broker_is_unavailable_within_timeout) {
  auto start = std::chrono::steady_clock::now();
  auto c = bus::AmqpConnection::connect({"amqp://guest:guest@127.0.0.1:" + std::to_string(testing::freePort()) + "/%2f",
                                         2, 0, std::chrono::milliseconds(2000)});
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(errorKindName(c.error().kind) == std::string("unavailable"));
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(5)));
}

BOOST_AUTO_TEST_CASE(connects_to_the_first_reachable_node_of_a_list) {
  // A cluster's nodes as one broker.url: a node that is down is passed over, whichever node a
  // connection starts from; with none up, the error says every node was tried.
  const std::string dead = "amqp://guest:guest@127.0.0.1:" + std::to_string(testing::freePort()) + "/%2f";
  const std::string live = testing::amqpUrl();
  const std::string live_node = live.substr(live.find('@') + 1, live.rfind('/') - live.find('@') - 1);
  for (int i = 0; i < 3; ++i) {
    auto c = bus::AmqpConnection::connect({dead + " , " + live, 2, 0, std::chrono::milliseconds(5000)});
    BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
    BOOST_TEST(c->node() == live_node);
    BOOST_TEST(c->declareExchange("vkhid.node-list-test", "fanout").ok());  // usable: one round trip
  }
  const std::string dead2 = "amqp://guest:guest@127.0.0.1:" + std::to_string(testing::freePort()) + "/%2f";
  auto none = bus::AmqpConnection::connect({dead + "," + dead2, 2, 0, std::chrono::milliseconds(5000)});
  BOOST_REQUIRE(!none.ok());
  BOOST_TEST((none.error().kind == ErrorKind::Unavailable));
  BOOST_TEST(none.error().message.find("every other node") != std::string::npos, none.error().message);
  BOOST_TEST(bus::brokerNodes(" a ,, b,") == (std::vector<std::string>{"a", "b"}));
}

BOOST_AUTO_TEST_CASE(quorum_queues_are_declared_without_priorities) {
  // On a cluster the gateway's queues are quorum queues: replicated, and (RabbitMQ 3.10) without
  // priorities — messages come out in the order they went in.
  auto c = bus::AmqpConnection::connect({testing::amqpUrl(), 5, 0, std::chrono::milliseconds(5000), "quorum"});
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  const std::string org = "q" + std::to_string(testing::freePort());
  auto declared = bus::declare(*c, bus::participantTopology(org));
  BOOST_REQUIRE_MESSAGE(declared.ok(), (declared.ok() ? "" : declared.error().message));
  for (std::string id : {"first", "priority"}) {
    bus::PublishProperties props;
    props.message_id = id;
    if (id == "priority") props.priority = 5;
    BOOST_REQUIRE(c->publish("", bus::deliveryQueueName(org), "{}", props).ok());
  }
  BOOST_REQUIRE(c->waitForConfirms(std::chrono::seconds(5)).ok());
  std::vector<std::string> order;
  for (int i = 0; i < 2; ++i) {
    auto d = c->get(bus::deliveryQueueName(org));
    BOOST_REQUIRE(d.ok() && d->has_value());
    order.push_back((*d)->message_id);
    BOOST_REQUIRE(c->ack((*d)->tag).ok());
  }
  BOOST_TEST(order == (std::vector<std::string>{"first", "priority"}));
  // It is not a classic priority queue: declaring it as one is refused by the broker.
  auto classic = connect();
  auto again = classic.declareQueue(bus::deliveryQueueName(org), {{"x-max-priority", std::int64_t{5}}});
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().code == "amqp.queue_args");
  BOOST_TEST(classic.open());
}

BOOST_AUTO_TEST_SUITE_END()
