package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"kumo/internal/e2e"
)

// launchSamples is how many single launches BenchmarkLaunch times; the
// median of several is steadier than one boot on a busy machine.
const launchSamples = 5

// BenchmarkLaunch times `kumo run` of one instance until the guest answers
// HTTP on its private address with its own id, and reports the median.
// The template for the type is ready first: this measures launches as they
// run once kumod is warm; the first launch of an image and type, which boots
// while its template is built, is the cold case (TestInstanceLifecycle).
func BenchmarkLaunch(b *testing.B) {
	c := e2e.Start(b, "--warm-types=t2.nano")
	c.WaitTemplates(1, 3*time.Minute)
	for range b.N {
		var samples []float64
		for range launchSamples {
			start := time.Now()
			in := c.Run("--image", "kumo-tiny", "--type", "t2.nano")[0]
			waitAll(b, []e2e.Instance{in})
			samples = append(samples, time.Since(start).Seconds())
			c.MustCLI("terminate", "--wait", in.ID)
		}
		slices.Sort(samples)
		b.Logf("launch -> HTTP seconds: %.2f", samples)
		b.ReportMetric(samples[len(samples)/2], "launch_p50_s")
	}
}

// BenchmarkLaunch10 times one `kumo run --count 10` until all ten answer.
func BenchmarkLaunch10(b *testing.B) {
	c := e2e.Start(b, "--warm-types=t2.nano")
	c.WaitTemplates(1, 3*time.Minute)
	for range b.N {
		start := time.Now()
		ins := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--count", "10")
		waitAll(b, ins)
		b.ReportMetric(time.Since(start).Seconds(), "launch10_all_s")
		ids := []string{"terminate", "--wait"}
		for _, in := range ins {
			ids = append(ids, in.ID)
		}
		c.MustCLI(ids...)
	}
}

func waitAll(b *testing.B, ins []e2e.Instance) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(ins))
	for _, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e2e.WaitHTTP(ctx, in.PrivateIP, "/", in.ID); err != nil {
				errs <- fmt.Errorf("%s: %w", in.ID, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
