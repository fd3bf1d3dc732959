package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DescribeLogDirsRequest;
import io.tandem.kafka.wire.message.DescribeLogDirsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** DescribeLogDirs: the broker's one log directory with each hosted partition's size. */
final class DescribeLogDirsHandler implements ApiHandler<DescribeLogDirsRequest> {
    private final KafkaBroker broker;

    DescribeLogDirsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DescribeLogDirsRequest request, Responder responder) {
        DescribeLogDirsResponse.DescribeLogDirsResult dir = new DescribeLogDirsResponse.DescribeLogDirsResult();
        dir.logDir = broker.config().logDir().toAbsolutePath().toString();
        try {
            FileStore store = Files.getFileStore(broker.config().logDir());
            dir.totalBytes = store.getTotalSpace();
            dir.usableBytes = store.getUsableSpace();
        } catch (IOException e) {
            dir.totalBytes = -1;
            dir.usableBytes = -1;
        }
        Map<String, Map<Integer, Long>> sizes = new TreeMap<>();
        for (Map.Entry<TopicPartition, Partition> e : broker.logs().partitions().entrySet()) {
            TopicPartition tp = e.getKey();
            if (!wanted(request, tp)) continue;
            sizes.computeIfAbsent(tp.topic(), k -> new TreeMap<>()).put(tp.partition(), e.getValue().log().sizeInBytes());
        }
        for (Map.Entry<String, Map<Integer, Long>> t : sizes.entrySet()) {
            DescribeLogDirsResponse.DescribeLogDirsTopic topic =
                    new DescribeLogDirsResponse.DescribeLogDirsTopic();
            topic.name = t.getKey();
            for (Map.Entry<Integer, Long> p : t.getValue().entrySet()) {
                DescribeLogDirsResponse.DescribeLogDirsPartition partition =
                        new DescribeLogDirsResponse.DescribeLogDirsPartition();
                partition.partitionIndex = p.getKey();
                partition.partitionSize = p.getValue();
                partition.offsetLag = 0;
                topic.partitions.add(partition);
            }
            dir.topics.add(topic);
        }
        DescribeLogDirsResponse response = new DescribeLogDirsResponse();
        response.results.add(dir);
        responder.send(response);
    }

    private static boolean wanted(DescribeLogDirsRequest request, TopicPartition tp) {
        if (request.topics == null) return true;
        for (DescribeLogDirsRequest.DescribableLogDirTopic t : request.topics) {
            if (t.topic.equals(tp.topic()) && t.partitions.contains(tp.partition())) return true;
        }
        return false;
    }

}
